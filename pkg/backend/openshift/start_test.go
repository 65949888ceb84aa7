package openshift

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

var teamNS = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}

var podsGVR = corev1.SchemeGroupVersion.WithResource("pods")

// onPodWatch makes the fake cluster change the watched pod with mutate as
// soon as paude's watch is in place (so no event can be missed).
func onPodWatch(tb *testBackend, mutate func(*corev1.Pod)) {
	tb.cs.PrependWatchReactor("pods", func(a k8stesting.Action) (bool, watch.Interface, error) {
		ns := a.GetNamespace()
		w, err := tb.cs.Tracker().Watch(podsGVR, ns)
		if err != nil {
			return true, nil, err
		}
		go func() {
			obj, err := tb.cs.Tracker().Get(podsGVR, ns, PodName(testID))
			if err != nil {
				return
			}
			pod := obj.(*corev1.Pod).DeepCopy()
			mutate(pod)
			_ = tb.cs.Tracker().Update(podsGVR, pod, ns)
		}()
		return true, w, nil
	})
}

func makeReady(pod *corev1.Pod) {
	pod.Spec.NodeName = "node"
	pod.Status.Phase = corev1.PodRunning
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
}

// startOpts starts with --image and open network, which needs no
// registry and no proxy; network_test.go covers the proxied start.
// startOpts is a start with --image and open network, in a workspace
// that exists (the first sync reads it).
func startOpts(t *testing.T) backend.SessionSpec {
	return backend.SessionSpec{Image: "img:1", Workspace: t.TempDir(), AgentArgs: []string{"--x"}, AllowNetwork: true}
}

// TestStartSessionWithoutALogin: with no Anthropic key, token or stored
// login the start goes ahead (Claude Code logs in inside the session) and
// says so.
func TestStartSessionWithoutALogin(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS)
	tb.opts.Getenv = func(string) string { return "" }
	onPodWatch(tb, makeReady)
	if _, err := tb.StartSession(context.Background(), startOpts(t)); err != nil {
		t.Fatalf("StartSession: %v", err)
	}
	if !strings.Contains(tb.progress.String(), "Claude Code will ask you to log in inside the session") {
		t.Errorf("progress:\n%s", tb.progress)
	}
}

func TestStartSession(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS)
	writeFile(t, tb.home, ".config/gcloud/application_default_credentials.json", []byte("{}"))
	writeFile(t, tb.home, ".gitconfig", []byte("[user]\n"))
	tb.opts.Getenv = func(k string) string {
		return map[string]string{"ANTHROPIC_API_KEY": "sk-host-key-5c1e", "GOOGLE_CLOUD_PROJECT": "host-proj-5c1e"}[k]
	}
	onPodWatch(tb, makeReady)

	spec := startOpts(t)
	s, err := tb.StartSession(context.Background(), spec)
	if err != nil {
		t.Fatalf("StartSession: %v\nprogress:\n%s", err, tb.progress)
	}
	want := &backend.Session{ID: testID, Status: backend.StatusRunning, Workspace: spec.Workspace, CreatedAt: testNow,
		BackendType: backend.OpenShift, Network: backend.NetworkOpen}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("session = %+v, want %+v", s, want)
	}
	left := sessionObjectsLeft(t, tb.cs, "team", testID)
	slices.Sort(left)
	wantLeft := []string{
		"persistentvolumeclaim/paude-" + testID + "-workspace",
		"pod/paude-" + testID,
		"secret/paude-" + testID + "-env",
		"secret/paude-" + testID + "-gcloud",
		"secret/paude-" + testID + "-gitconfig",
	}
	if !reflect.DeepEqual(left, wantLeft) {
		t.Errorf("objects = %v, want %v", left, wantLeft)
	}
	// Every write is a server-side apply by the "paude" field manager.
	var applied []string
	for _, a := range tb.cs.Actions() {
		switch act := a.(type) {
		case k8stesting.CreateAction:
			if r := a.GetResource().Resource; r != "selfsubjectaccessreviews" && r != "selfsubjectreviews" {
				t.Errorf("plain create of %s: want server-side apply", r)
			}
		case k8stesting.PatchAction:
			if act.GetPatchType() != types.ApplyPatchType {
				t.Errorf("patch type %s", act.GetPatchType())
			}
			if opts := act.(k8stesting.PatchActionImpl).PatchOptions; opts.FieldManager != "paude" {
				t.Errorf("field manager %q", opts.FieldManager)
			}
			applied = append(applied, act.GetResource().Resource)
		}
	}
	wantOrder := []string{"persistentvolumeclaims", "secrets", "secrets", "secrets", "pods"}
	if !reflect.DeepEqual(applied, wantOrder) {
		t.Errorf("apply order = %v, want %v", applied, wantOrder)
	}
	// The API key selects Anthropic's API: Vertex's project is not passed.
	checkEnvSecret(t, tb, map[string]string{"FOO": "bar", "ANTHROPIC_API_KEY": "sk-host-key-5c1e"})
	assertNoConfigMaps(t, tb.cs)
	out := tb.progress.String()
	if !containsAll(out, "Starting session "+testID+" in namespace team",
		"Skipping claude credentials: ~/.claude and ~/.claude.json not found",
		"Creating pod paude-"+testID, "Session "+testID+" is ready") {
		t.Errorf("progress:\n%s", out)
	}
}

func TestStartSessionFailuresLeaveNothing(t *testing.T) {
	tests := []struct {
		name     string
		cfg      func(*config.Config)
		setup    func(*testBackend)
		wantErr  []string
		wantType any
	}{
		{
			name:     "image pull",
			setup:    func(tb *testBackend) { onPodWatch(tb, waiting("ErrImagePull", `failed to pull "img:1": not found`)) },
			wantErr:  []string{"pod paude-" + testID + " failed to start: ErrImagePull", "not found", "check the image name"},
			wantType: &PodFailedError{},
		},
		{
			name: "unschedulable",
			setup: func(tb *testBackend) {
				onPodWatch(tb, condition(corev1.PodScheduled, corev1.ConditionFalse, "Unschedulable", "0/1 nodes are available: 1 Insufficient memory"))
			},
			wantErr: []string{"Unschedulable", "Insufficient memory", "lower backend.resources"},
		},
		{
			name: "config error",
			setup: func(tb *testBackend) {
				onPodWatch(tb, waiting("CreateContainerConfigError", `secret "x" not found`))
			},
			wantErr: []string{"CreateContainerConfigError"},
		},
		{
			name: "pod create forbidden",
			setup: func(tb *testBackend) {
				failing(tb, "patch", "pods", apierrors.NewForbidden(podsGR, "paude-x", errors.New("quota")))
			},
			wantErr:  []string{`not allowed to create pod paude-` + testID + ` in namespace "team"`},
			wantType: &ForbiddenError{},
		},
		{
			name:    "timeout",
			cfg:     func(c *config.Config) { c.Backend.StartTimeout = 50 * time.Millisecond },
			wantErr: []string{"did not become ready within 50ms", "kubectl describe pod paude-" + testID + " -n team"},
		},
		{
			name: "pod deleted while starting",
			setup: func(tb *testBackend) {
				tb.cs.PrependWatchReactor("pods", func(a k8stesting.Action) (bool, watch.Interface, error) {
					w, _ := tb.cs.Tracker().Watch(podsGVR, "team")
					go func() { _ = tb.cs.Tracker().Delete(podsGVR, "team", PodName(testID)) }()
					return true, w, nil
				})
			},
			wantErr: []string{"was deleted before it became ready"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			tb := newTestBackend(t, cfg, teamNS)
			writeFile(t, tb.home, ".gitconfig", []byte("[user]\n"))
			writeFile(t, tb.home, ".claude.json", []byte("{}"))
			if tt.setup != nil {
				tt.setup(tb)
			}
			_, err := tb.StartSession(context.Background(), startOpts(t))
			if err == nil || !containsAll(err.Error(), tt.wantErr...) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.wantType != nil {
				target := reflect.New(reflect.TypeOf(tt.wantType)).Interface()
				if !errors.As(err, target) {
					t.Errorf("err is %T, want %T", err, tt.wantType)
				}
			}
			if !strings.Contains(tb.progress.String(), "Creating secret "+EnvSecretName(testID)) {
				t.Errorf("the env secret was not created before the failure:\n%s", tb.progress)
			}
			if left := sessionObjectsLeft(t, tb.cs, "team", testID); len(left) != 0 {
				t.Errorf("objects left after a failed start: %v", left)
			}
			if !strings.Contains(tb.progress.String(), "Start failed; removing what it created") {
				t.Errorf("progress does not say it cleaned up:\n%s", tb.progress)
			}
		})
	}
}

func TestStartSessionCancelledStillCleansUp(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS)
	ctx, cancel := context.WithCancel(context.Background())
	tb.cs.PrependWatchReactor("pods", func(a k8stesting.Action) (bool, watch.Interface, error) {
		w, err := tb.cs.Tracker().Watch(podsGVR, "team")
		cancel() // the user presses Ctrl-C while paude waits
		return true, w, err
	})
	_, err := tb.StartSession(ctx, startOpts(t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if left := sessionObjectsLeft(t, tb.cs, "team", testID); len(left) != 0 {
		t.Errorf("objects left: %v", left)
	}
}

func TestStartSessionRefusesBeforeCreating(t *testing.T) {
	tests := []struct {
		name    string
		objects []runtime.Object
		setup   func(*testBackend)
		opts    func(*backend.SessionSpec)
		wantErr string
	}{
		{"namespace missing", nil, nil, nil, `namespace "team" (from kubeconfig context) does not exist`},
		{"forbidden", []runtime.Object{teamNS}, func(tb *testBackend) { allowAll(tb.cs, "create pods") }, nil, `not allowed to create pods in namespace "team"`},
		// Server-side apply is a PATCH: create alone is not enough.
		{"may create but not apply", []runtime.Object{teamNS}, func(tb *testBackend) { allowAll(tb.cs, "patch secrets") }, nil, `not allowed to patch secrets in namespace "team"`},
		// A failed start must be able to remove what it created.
		{"may not undo", []runtime.Object{teamNS}, func(tb *testBackend) { allowAll(tb.cs, "delete persistentvolumeclaims") }, nil, `not allowed to delete persistentvolumeclaims in namespace "team"`},
		{"expired credentials", []runtime.Object{teamNS}, func(tb *testBackend) {
			failing(tb, "create", "selfsubjectreviews", apierrors.NewUnauthorized("expired"))
		}, nil, "log in with `oc login`"},
		{"oversize credentials", []runtime.Object{teamNS}, func(tb *testBackend) {
			writeFile(t, tb.home, ".claude/CLAUDE.md", bytes.Repeat([]byte("m"), 2<<20))
		}, nil, "over the 1.0 MiB a Secret can hold"},
		// The file fits a Secret; the list of its path, kept in the same
		// Secret, takes it over.
		{"credentials fit only without their paths", []runtime.Object{teamNS}, func(tb *testBackend) {
			writeFile(t, tb.home, ".gitconfig", bytes.Repeat([]byte("g"), corev1.MaxSecretSize))
		}, nil, "listing their paths), 54 B over the 1.0 MiB a Secret can hold: largest files: ~/.gitconfig (1.0 MiB): remove what the agent does not need"},
		{"no image", []runtime.Object{teamNS}, nil, func(o *backend.SessionSpec) { o.Image = "" }, "pass --registry"},
		{"relative workspace", []runtime.Object{teamNS}, nil, func(o *backend.SessionSpec) { o.Workspace = "proj" }, "not an absolute path"},
		{"vertex without a project", []runtime.Object{teamNS}, func(tb *testBackend) {
			tb.opts.Getenv = func(k string) string {
				return map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5"}[k]
			}
		}, nil, "ANTHROPIC_VERTEX_PROJECT_ID is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, testConfig(), tt.objects...)
			if tt.setup != nil {
				tt.setup(tb)
			}
			opts := startOpts(t)
			if tt.opts != nil {
				tt.opts(&opts)
			}
			_, err := tb.StartSession(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			for _, a := range tb.cs.Actions() {
				if a.GetVerb() == "patch" || a.GetVerb() == "delete" ||
					(a.GetVerb() == "create" && !strings.HasPrefix(a.GetResource().Resource, "self")) {
					t.Errorf("changed the cluster: %s %s", a.GetVerb(), a.GetResource().Resource)
				}
			}
		})
	}
}

func TestStartSessionUsesPersistentCredentials(t *testing.T) {
	persistent := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Name: "paude-gcloud", Namespace: "team",
		Labels:      map[string]string{backend.LabelApp: backend.AppName, backend.LabelCredential: "gcloud"},
		Annotations: map[string]string{AnnotationPaths: `[{"key":"adc.json","path":"application_default_credentials.json"}]`},
	}}
	tb := newTestBackend(t, testConfig(), teamNS, persistent)
	onPodWatch(tb, makeReady)
	if _, err := tb.StartSession(context.Background(), startOpts(t)); err != nil {
		t.Fatal(err)
	}
	pod, err := tb.cs.CoreV1().Pods("team").Get(context.Background(), PodName(testID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == "paude-gcloud" {
			found = reflect.DeepEqual(v.Secret.Items, []corev1.KeyToPath{{Key: "adc.json", Path: "application_default_credentials.json"}})
		}
	}
	if !found {
		t.Errorf("persistent gcloud secret not mounted: %+v", pod.Spec.Volumes)
	}
	if !strings.Contains(tb.progress.String(), "Using gcloud credentials from the namespace's paude-gcloud") {
		t.Errorf("progress:\n%s", tb.progress)
	}
	// Stopping the session leaves the persistent object alone.
	if err := tb.StopSession(context.Background(), testID); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.cs.CoreV1().Secrets("team").Get(context.Background(), "paude-gcloud", metav1.GetOptions{}); err != nil {
		t.Errorf("persistent secret removed by stop: %v", err)
	}
}

// TestPlanHasNoConfigMap builds the plan for every kind of credential,
// with the namespace's `paude setup` Secrets for the kinds missing
// locally too: every credential is an Opaque Secret mounted from a
// Secret volume, and nothing in the plan is (or mounts) a ConfigMap.
func TestPlanHasNoConfigMap(t *testing.T) {
	local := []LocalCredential{
		{Kind: CredentialGcloud, Files: []CredentialFile{{Path: "adc.json", Data: []byte("{}")}}},
		{Kind: CredentialGitconfig, Files: []CredentialFile{{Path: "gitconfig", Data: []byte("[url \"https://me:tok@git.example.com/\"]\n\tinsteadOf = https://git.example.com/\n")}}},
		{Kind: CredentialClaude, Files: []CredentialFile{{Path: "claude.json", Data: []byte("{}")}}},
	}
	persistent := map[CredentialKind]Credential{}
	for _, kind := range CredentialKinds {
		persistent[kind] = Credential{Kind: kind, Name: PersistentCredentialName(kind), Items: []corev1.KeyToPath{{Key: "k", Path: string(kind)}}}
	}
	for name, in := range map[string]planInput{
		"local credentials":     {Local: local},
		"`paude setup` secrets": {Persistent: persistent},
		"local and setup mixed": {Local: local[1:2], Persistent: persistent},
	} {
		t.Run(name, func(t *testing.T) {
			in.ID, in.Namespace, in.Config, in.Image = testID, "team", testConfig(), "img:1"
			in.HostWorkspace, in.CreatedAt, in.NewClaim = "/home/me/proj", testNow, true
			plan, err := buildPlan(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, obj := range plan.objects() {
				if _, ok := obj.(*corev1.ConfigMap); ok {
					t.Errorf("the plan holds ConfigMap %s", obj.GetName())
				}
			}
			for _, obj := range plan.Credentials {
				secret, ok := obj.(*corev1.Secret)
				if !ok || secret.Type != corev1.SecretTypeOpaque {
					t.Errorf("credential %s is %T, want an Opaque Secret", obj.GetName(), obj)
				}
			}
			mounted := map[string]bool{}
			for _, v := range plan.Pod.Spec.Volumes {
				if v.ConfigMap != nil || v.Projected != nil {
					t.Errorf("volume %s is not a plain Secret volume: %+v", v.Name, v.VolumeSource)
				}
				if v.Secret != nil {
					mounted[v.Name] = true
				}
			}
			if !mounted["cred-gitconfig"] {
				t.Errorf("gitconfig is not mounted from a Secret: %+v", plan.Pod.Spec.Volumes)
			}
			for _, m := range plan.Pod.Spec.Containers[0].VolumeMounts {
				if m.MountPath == GitconfigMountPath && (!m.ReadOnly || m.Name != "cred-gitconfig") {
					t.Errorf("gitconfig mount = %+v, want read-only from the Secret volume", m)
				}
			}
		})
	}
}
