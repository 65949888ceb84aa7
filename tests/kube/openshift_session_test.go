//go:build integration

package kube_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// execIn runs a shell command in the session's agent container.
func execIn(t *testing.T, c *kubetest.Cluster, ns, id, script string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := c.Exec(ctx, ns, openshift.PodName(id), kubetest.ExecOptions{
		Container: openshift.ContainerName, Command: []string{"bash", "-c", script}, Stdout: &out, Stderr: &errOut,
	})
	return out.String() + errOut.String(), err
}

// TestOpenShiftSessionStartListStop starts a real session on the node
// with the real workspace image, checks what the agent gets (UID in
// group 0, workspace on the claim, credentials read-only, the claude
// config copied and writable), lists it, stops it, and finds nothing
// labelled with it afterwards.
func TestOpenShiftSessionStartListStop(t *testing.T) {
	c := kubetest.Require(t)
	// A gitconfig can hold a token: it must travel as a Secret.
	gitconfig := "[user]\n\tname = Test User\n[url \"https://me:tok3n@git.example.com/\"]\n\tinsteadOf = https://git.example.com/\n"
	img := workspaceImage(t)
	ns := c.Namespace(t, restrictedNamespace)
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 1)
	home := writeHome(t, map[string]string{
		// Only the application-default credentials go in: not another
		// account's refresh tokens.
		".config/gcloud/application_default_credentials.json":       `{"type":"authorized_user"}`,
		".config/gcloud/legacy_credentials/me@example.com/adc.json": `{"type":"other-account"}`,
		".gitconfig":            gitconfig,
		".claude/settings.json": `{"theme":"dark"}`,
		".claude.json":          `{"numStartups":1}`,
	})
	progress := &syncBuffer{}
	// Env values can be tokens: they travel in the session's env Secret,
	// byte for byte, and never in the pod's spec.
	cfg := sessionConfig(class, false)
	cfg.Env = map[string]string{"KT_TOKEN": envToken}
	// The selected provider's variables pass from the host, and only
	// those.
	t.Setenv("CLAUDE_CODE_USE_VERTEX", "1")
	t.Setenv("CLOUD_ML_REGION", hostRegion)
	t.Setenv("ANTHROPIC_VERTEX_PROJECT_ID", "kt-project")
	t.Setenv("AWS_REGION", "kt-not-the-provider")
	b := paudeBackend(t, kubeconfig, ns, cfg, home, progress)
	ctx := context.Background()
	// A service in the namespace would show up as KT_WEB_* variables in a
	// pod with service links.
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kt-web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := c.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	ws := hostWorkspace(t, "my-project")
	s, err := b.StartSession(ctx, backend.SessionSpec{Image: img, Workspace: ws, AgentArgs: []string{"--hello"}})
	if err != nil {
		t.Fatalf("StartSession: %v\nprogress:\n%s", err, progress)
	}
	t.Logf("MEASURE start-to-Ready (preflight, claim bind, 3 credential objects, env secret, pod): %s", time.Since(start).Round(10*time.Millisecond))
	t.Logf("progress:\n%s", progress)

	checks := []struct {
		name, script, want string
	}{
		// Checked first and without waiting: Ready means the agent's tmux
		// session exists, so an attach right after a start finds it.
		{"tmux session exists once Ready", "/usr/local/bin/paude-entrypoint status", "running\n"},
		{"arbitrary uid in group 0", "id -u; id -g", "1000\n0\n"},
		{"agent runs in the project dir", "tmux display -p -t claude '#{pane_current_path}'", "/workspace/my-project\n"},
		{"agent args", "for i in $(seq 100); do tmux capture-pane -p -t claude | grep -q READY && break; sleep 0.1; done; tmux capture-pane -p -t claude | grep -o 'args:.*'", "args:--hello\n"},
		{"workspace writable", "echo x > /workspace/my-project/f && cat /workspace/my-project/f", "x\n"},
		{"state dir outside the project", "test -d /workspace/.paude && echo ok", "ok\n"},
		{"gcloud application-default credentials", "cat ~/.config/gcloud/application_default_credentials.json", `{"type":"authorized_user"}`},
		{"no other gcloud account", "test -e ~/.config/gcloud/legacy_credentials && echo present || echo absent", "absent\n"},
		{"gcloud read-only", "touch ~/.config/gcloud/x 2>/dev/null || echo refused", "refused\n"},
		{"gitconfig", "git config --global user.name", "Test User\n"},
		{"gitconfig read-only", "{ echo x >> ~/.gitconfig; } 2>/dev/null || echo refused", "refused\n"},
		{"gitconfig token intact", "git config --global --get-regexp '^url\\.'", "url.https://me:tok3n@git.example.com/.insteadof https://git.example.com/\n"},
		{"credential files owner and group only", "stat -L -c %a ~/.gitconfig ~/.config/gcloud/application_default_credentials.json", "440\n440\n"},
		{"claude config copied and writable", "cat ~/.claude/settings.json ~/.claude/.claude.json && echo more >> ~/.claude/.claude.json && test -w ~/.claude/settings.json && echo ok", `{"theme":"dark"}{"numStartups":1}ok` + "\n"},
		{"no service account token", "test -e /var/run/secrets/kubernetes.io/serviceaccount/token && echo present || echo absent", "absent\n"},
		{"no service links", "env | grep -c '^KT_WEB_' || true", "0\n"},
		{"no privilege escalation", "grep NoNewPrivs /proc/self/status | tr -d '\\t '", "NoNewPrivs:1\n"},
		{"no capabilities", "grep CapEff /proc/self/status | tr -d '\\t '", "CapEff:0000000000000000\n"},
		{"seccomp", "grep '^Seccomp:' /proc/self/status | tr -d '\\t '", "Seccomp:2\n"},
		{"configured env value byte-exact", "printenv KT_TOKEN", envToken + "\n"},
		{"host vertex value", "printenv CLOUD_ML_REGION", hostRegion + "\n"},
		{"another provider's variable stays out", "printenv AWS_REGION || echo unset", "unset\n"},
		{"paude's own values", "printenv PAUDE_SESSION_ID HOME", s.ID + "\n/home/paude\n"},
	}
	for _, ck := range checks {
		out, err := execIn(t, c, ns, s.ID, ck.script)
		if err != nil || out != ck.want {
			t.Errorf("%s: got %q (%v), want %q", ck.name, out, err, ck.want)
		}
	}

	checkGitconfigSecret(t, c, ns, s.ID, gitconfig)
	checkEnvSecret(t, c, ns, s.ID, map[string]string{"KT_TOKEN": envToken, "CLOUD_ML_REGION": hostRegion,
		"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "kt-project"})

	sessions, err := b.ListSessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].ID != s.ID || sessions[0].Status != backend.StatusRunning || sessions[0].Workspace != ws {
		t.Errorf("sessions = %+v", sessions)
	}

	if err := b.StopSession(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if left := labelledObjects(t, c, ns, s.ID); len(left) != 0 {
		t.Errorf("objects labelled with the session after stop: %v", left)
	}
	if err := b.StopSession(ctx, s.ID); err != nil {
		t.Errorf("stopping a stopped session: %v", err)
	}
}

// envToken is a configured env value with everything a shell or an env
// file would mangle; hostRegion a Vertex value from the host.
const (
	envToken   = `tok3n with  blanks "double" 'single' a=b==c #hash $HOME \back` + "\ttab"
	hostRegion = "kt-region-4e1d"
)

// checkEnvSecret checks what the API server holds for a session's env
// values: an Opaque Secret with exactly want, which the pod references
// by key, and no literal value of them anywhere in the pod object.
func checkEnvSecret(t *testing.T, c *kubetest.Cluster, ns, id string, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	name := openshift.EnvSecretName(id)
	secret, err := c.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("env secret: %v", err)
	}
	got := map[string]string{}
	for k, v := range secret.Data {
		got[k] = string(v)
	}
	if secret.Type != corev1.SecretTypeOpaque || !reflect.DeepEqual(got, want) {
		t.Errorf("env secret = type %s, data %q, want %q", secret.Type, got, want)
	}
	pod, err := c.Client.CoreV1().Pods(ns).Get(ctx, openshift.PodName(id), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if len(v) < 6 {
			// "1" is in any pod object: only a distinctive value shows
			// whether it leaked (its reference is checked below).
			continue
		}
		if strings.Contains(string(raw), v) || strings.Contains(string(raw), base64.StdEncoding.EncodeToString([]byte(v))) {
			t.Errorf("the pod object holds the value of %s", k)
		}
	}
	for _, e := range pod.Spec.Containers[0].Env {
		if _, ok := want[e.Name]; !ok {
			continue
		}
		ref := e.ValueFrom
		if e.Value != "" || ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != name || ref.SecretKeyRef.Key != e.Name {
			t.Errorf("pod env %s = %+v, want a reference to key %s of secret %s", e.Name, e, e.Name, name)
		}
	}
}

// checkGitconfigSecret checks what the API server holds for a session's
// gitconfig: an Opaque Secret with the file, mounted read-only from a
// Secret volume, and no ConfigMap anywhere in the namespace.
func checkGitconfigSecret(t *testing.T, c *kubetest.Cluster, ns, id, gitconfig string) {
	t.Helper()
	ctx := context.Background()
	name := openshift.SessionCredentialName(id, openshift.CredentialGitconfig)
	secret, err := c.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("gitconfig secret: %v", err)
	}
	if secret.Type != corev1.SecretTypeOpaque || string(secret.Data["gitconfig"]) != gitconfig {
		t.Errorf("gitconfig secret = type %s, data %q", secret.Type, secret.Data)
	}
	pod, err := c.Client.CoreV1().Pods(ns).Get(ctx, openshift.PodName(id), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mounted bool
	for _, v := range pod.Spec.Volumes {
		if v.Name == "cred-gitconfig" {
			mounted = v.Secret != nil && v.Secret.SecretName == name && v.ConfigMap == nil
		}
	}
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		if m.MountPath == openshift.GitconfigMountPath && !m.ReadOnly {
			t.Errorf("gitconfig mounted writable: %+v", m)
		}
	}
	if !mounted {
		t.Errorf("gitconfig not mounted from secret %s: %+v", name, pod.Spec.Volumes)
	}
	cms, err := c.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: backend.LabelApp + "=" + backend.AppName})
	if err != nil || len(cms.Items) != 0 {
		t.Errorf("paude created ConfigMaps: %+v, %v", cms, err)
	}
}

// TestOpenShiftMissingImageFailsFast starts a session with an image the
// registry does not have: the start reports the pull error long before
// its timeout and leaves nothing behind.
func TestOpenShiftMissingImageFailsFast(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 1)
	progress := &syncBuffer{}
	cfg := sessionConfig(class, false)
	cfg.Backend.StartTimeout = 10 * time.Minute
	b := paudeBackend(t, kubeconfig, ns, cfg, writeHome(t, map[string]string{".gitconfig": "[user]\n"}), progress)
	start := time.Now()
	_, err := b.StartSession(context.Background(), backend.SessionSpec{
		Image: c.Registry + "/paude-kt/no-such-image:1", Workspace: hostWorkspace(t, "proj"),
	})
	took := time.Since(start)
	var failed *openshift.PodFailedError
	if !errors.As(err, &failed) || !slices.Contains([]string{"ErrImagePull", "ImagePullBackOff"}, failed.Reason) {
		t.Fatalf("err = %v, want an image pull failure\n%s", err, progress)
	}
	if !strings.Contains(err.Error(), "check the image name") {
		t.Errorf("error gives no hint: %v", err)
	}
	t.Logf("MEASURE missing image reported after %s: %v", took.Round(10*time.Millisecond), err)
	sessions, err := b.ListSessions(context.Background())
	if err != nil || len(sessions) != 0 {
		t.Errorf("sessions after the failed start: %+v, %v", sessions, err)
	}
	for _, line := range strings.Split(progress.String(), "\n") {
		if strings.HasPrefix(line, "Starting session ") {
			id := strings.Fields(line)[2]
			if left := labelledObjects(t, c, ns, id); len(left) != 0 {
				t.Errorf("objects left by the failed start: %v", left)
			}
			return
		}
	}
	t.Errorf("no session id in the progress:\n%s", progress)
}
