package openshift

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

func basePodParams() PodParams {
	return PodParams{
		ID:            testID,
		Namespace:     "team",
		Image:         "registry.example/paude-workspace:abc123",
		HostWorkspace: "/home/me/src/my-project",
		AgentArgs:     []string{"--model", "opus"},
		CreatedAt:     testNow,
		Config:        testConfig(),
	}
}

func mustPod(t *testing.T, p PodParams) *corev1.Pod {
	t.Helper()
	pod, err := PodFor(p)
	if err != nil {
		t.Fatalf("PodFor: %v", err)
	}
	return pod
}

func envMap(env []corev1.EnvVar) map[string]string {
	m := map[string]string{}
	for _, e := range env {
		m[e.Name] = e.Value
	}
	return m
}

func TestPodForHardening(t *testing.T) {
	pod := mustPod(t, basePodParams())
	spec := pod.Spec
	if spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never", spec.RestartPolicy)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken must be false")
	}
	if spec.EnableServiceLinks == nil || *spec.EnableServiceLinks {
		t.Errorf("enableServiceLinks must be false")
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("pod runAsNonRoot must be true")
	}
	if psc.RunAsUser != nil || psc.RunAsGroup != nil || psc.FSGroup != nil {
		t.Errorf("pod must not pin a UID, GID or fsGroup: %+v", psc)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccomp must be RuntimeDefault")
	}
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	if len(all) != 2 {
		t.Fatalf("want one init container and one container, got %d", len(all))
	}
	for _, c := range all {
		sc := c.SecurityContext
		if sc == nil {
			t.Fatalf("container %s has no security context", c.Name)
		}
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("container %s: runAsNonRoot must be true", c.Name)
		}
		if sc.RunAsUser != nil || sc.RunAsGroup != nil {
			t.Errorf("container %s pins a UID/GID", c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("container %s: allowPrivilegeEscalation must be false", c.Name)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("container %s is privileged", c.Name)
		}
		if sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
			t.Errorf("container %s: capabilities = %+v, want drop ALL and add none", c.Name, sc.Capabilities)
		}
		if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("container %s: seccomp must be RuntimeDefault", c.Name)
		}
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		t.Errorf("pod must not share host namespaces")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s is a hostPath", v.Name)
		}
	}
}

func TestPodForMetadataAndContainer(t *testing.T) {
	p := basePodParams()
	p.Yolo = true
	pod := mustPod(t, p)
	wantLabels := map[string]string{"app": "paude", "paude.io/role": "agent", "paude.io/session-id": testID, "paude.io/network": "open"}
	if !reflect.DeepEqual(pod.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v", pod.Labels, wantLabels)
	}
	wantAnn := map[string]string{
		"paude.io/workspace":                      "/home/me/src/my-project",
		"paude.io/created-at":                     "2026-03-01T12:00:00Z",
		"paude.io/idle-timeout":                   "4h0m0s",
		"paude.io/max-lifetime":                   "24h0m0s",
		"kubectl.kubernetes.io/default-container": "paude",
	}
	if !reflect.DeepEqual(pod.Annotations, wantAnn) {
		t.Errorf("annotations = %v, want %v", pod.Annotations, wantAnn)
	}
	if pod.Name != "paude-"+testID || pod.Namespace != "team" {
		t.Errorf("name = %s/%s", pod.Namespace, pod.Name)
	}
	c := pod.Spec.Containers[0]
	if c.Name != "paude" || c.Image != p.Image || !c.Stdin || !c.TTY {
		t.Errorf("container = %s %s stdin=%v tty=%v", c.Name, c.Image, c.Stdin, c.TTY)
	}
	if len(c.Command) != 0 {
		t.Errorf("command must be the image's entrypoint, got %v", c.Command)
	}
	if want := []string{"--", "--model", "opus"}; !reflect.DeepEqual(c.Args, want) {
		t.Errorf("args = %v, want %v", c.Args, want)
	}
	if got := *pod.Spec.ActiveDeadlineSeconds; got != 86400 {
		t.Errorf("activeDeadlineSeconds = %d, want 86400", got)
	}
	env := resolvedEnv(t, p, pod)
	want := map[string]string{
		"FOO": "bar", "HOME": "/home/paude", "TERM": "xterm-256color",
		"PAUDE_SESSION_ID": testID, "PAUDE_WORKSPACE": "/workspace/my-project",
		"PAUDE_STATE_DIR": "/workspace/.paude", "PAUDE_IDLE_TIMEOUT": "14400",
		"PAUDE_MAX_LIFETIME": "86400", "PAUDE_SETUP": "make deps", "PAUDE_YOLO": "1",
		"PAUDE_WAIT_FILE":                          "/workspace/.paude/workspace-ready",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env = %v, want %v", env, want)
	}
	for i := 1; i < len(c.Env); i++ {
		if c.Env[i-1].Name >= c.Env[i].Name {
			t.Errorf("env not sorted: %s before %s", c.Env[i-1].Name, c.Env[i].Name)
		}
	}
}

func TestPodForLimits(t *testing.T) {
	tests := []struct {
		name         string
		idle, max    time.Duration
		wantDeadline *int64
		wantIdle     string
	}{
		{"defaults", 4 * time.Hour, 24 * time.Hour, ptrInt64(86400), "14400"},
		{"never", 0, 0, nil, "0"},
		{"seconds", 30 * time.Second, 90 * time.Second, ptrInt64(90), "30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basePodParams()
			p.Config.Session = config.Session{IdleTimeout: tt.idle, MaxLifetime: tt.max}
			pod := mustPod(t, p)
			if !reflect.DeepEqual(pod.Spec.ActiveDeadlineSeconds, tt.wantDeadline) {
				t.Errorf("activeDeadlineSeconds = %v, want %v", pod.Spec.ActiveDeadlineSeconds, tt.wantDeadline)
			}
			if got := envMap(pod.Spec.Containers[0].Env)["PAUDE_IDLE_TIMEOUT"]; got != tt.wantIdle {
				t.Errorf("PAUDE_IDLE_TIMEOUT = %s, want %s", got, tt.wantIdle)
			}
			if tt.max == 0 && pod.Annotations[AnnotationMaxLifetime] != "0" {
				t.Errorf("max-lifetime annotation = %q, want 0", pod.Annotations[AnnotationMaxLifetime])
			}
		})
	}
}

func ptrInt64(v int64) *int64 { return &v }

func TestPodForResources(t *testing.T) {
	defaults := DefaultConfig().Backend.Resources
	tests := []struct {
		name string
		in   config.Resources
		want map[string]string // "requests.cpu" → quantity
	}{
		{"defaults", defaults, map[string]string{"requests.cpu": "1", "requests.memory": "4Gi", "limits.cpu": "4", "limits.memory": "8Gi"}},
		{"configured", config.Resources{Requests: config.ResourceList{CPU: resource.MustParse("500m"), Memory: resource.MustParse("1Gi")}, Limits: config.ResourceList{CPU: resource.MustParse("2"), Memory: resource.MustParse("2Gi")}},
			map[string]string{"requests.cpu": "500m", "requests.memory": "1Gi", "limits.cpu": "2", "limits.memory": "2Gi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basePodParams()
			p.Config.Backend.Resources = tt.in
			pod, err := PodFor(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
				r := c.Resources
				got := map[string]string{
					"requests.cpu": qs(r.Requests, corev1.ResourceCPU), "requests.memory": qs(r.Requests, corev1.ResourceMemory),
					"limits.cpu": qs(r.Limits, corev1.ResourceCPU), "limits.memory": qs(r.Limits, corev1.ResourceMemory),
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s resources = %v, want %v", c.Name, got, tt.want)
				}
			}
		})
	}
}

func qs(l corev1.ResourceList, n corev1.ResourceName) string {
	q := l[n]
	return q.String()
}

func TestPodForIsPure(t *testing.T) {
	a, b := mustPod(t, basePodParams()), mustPod(t, basePodParams())
	if !reflect.DeepEqual(a, b) {
		t.Errorf("PodFor is not deterministic")
	}
}

func TestWorkspaceDirFor(t *testing.T) {
	tests := map[string]string{
		"/home/me/src/my-project": "/workspace/my-project",
		"/home/me/src/proj.v2/":   "/workspace/proj.v2",
		"/":                       "/workspace/project",
		"/home/me/with space":     "/workspace/project",
		"/home/me/.paude":         "/workspace/project",
		"/home/me/-dash":          "/workspace/project",
		"/home/me/ünïcode":        "/workspace/project",
	}
	for in, want := range tests {
		if got := WorkspaceDirFor(in); got != want {
			t.Errorf("WorkspaceDirFor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWorkspaceClaimFor(t *testing.T) {
	tests := []struct {
		name      string
		vol       config.WorkspaceVolume
		wantSize  string
		wantClass *string
		wantErr   string
	}{
		{"defaults", DefaultConfig().Backend.Workspace, "10Gi", nil, ""},
		{"configured", config.WorkspaceVolume{Size: resource.MustParse("50Gi"), StorageClass: "fast"}, "50Gi", strPtr("fast"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pvc, err := WorkspaceClaimFor(WorkspaceClaimParams{
				ID: testID, Namespace: "team", Volume: tt.vol, HostWorkspace: "/w",
				Image: "img:1", AgentArgs: []string{"a b", "c"}, Yolo: true, CreatedAt: testNow,
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pvc.Name != "paude-"+testID+"-workspace" {
				t.Errorf("name = %s", pvc.Name)
			}
			if !reflect.DeepEqual(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) {
				t.Errorf("access modes = %v", pvc.Spec.AccessModes)
			}
			if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse(tt.wantSize)) != 0 {
				t.Errorf("size = %s, want %s", got.String(), tt.wantSize)
			}
			if !reflect.DeepEqual(pvc.Spec.StorageClassName, tt.wantClass) {
				t.Errorf("storage class = %v, want %v", pvc.Spec.StorageClassName, tt.wantClass)
			}
			if pvc.Labels[backend.LabelSessionID] != testID || pvc.Labels[backend.LabelApp] != "paude" {
				t.Errorf("labels = %v", pvc.Labels)
			}
			in := planInput{}
			if err := resumeInput(pvc, &in, "`paude`"); err != nil {
				t.Fatal(err)
			}
			if in.Image != "img:1" || in.HostWorkspace != "/w" || !in.Yolo || !reflect.DeepEqual(in.AgentArgs, []string{"a b", "c"}) || !in.CreatedAt.Equal(testNow) {
				t.Errorf("resume input = %+v", in)
			}
		})
	}
}

func strPtr(s string) *string { return &s }
