//go:build integration

package kube_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// projectSettings is the paude configuration of the tests' projects: the
// fake agent, small resources, the test's storage class, no kept volume.
func projectSettings(t *testing.T, class string) map[string]any {
	t.Helper()
	return map[string]any{
		"agent": map[string]any{"name": "fake-agent", "command": "fake-agent", "install": fakeAgentInstall},
		"backend": map[string]any{
			"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
				"limits": map[string]any{"cpu": "1", "memory": "512Mi"}},
			"workspace":    map[string]any{"storageClass": class, "keepOnStop": false},
			"startTimeout": "3m",
		},
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOpenShiftImagesPushedOnceWithoutTheToken is a developer's first and
// second `kubectl paude --detach` in a workspace with only a paude.json
// and no --image: paude builds (or finds) the images, pushes them to the
// cluster's registry with the developer's token, and the node pulls them
// through the registry's internal name with a pull secret. While it
// pushes, no process on the machine has the token in its argv. The
// second start pushes nothing: the registry's own log shows no blob
// upload.
func TestOpenShiftImagesPushedOnceWithoutTheToken(t *testing.T) {
	c := kubetest.Require(t)
	workspaceImage(t) // podman and the local base image
	ns := c.Namespace(t, restrictedNamespace)
	token := c.ServiceAccountToken(t, ns, "kt-editor", "edit")
	kubeconfig := tokenKubeconfig(t, c, ns, token)
	class := workspaceStorage(t, c, 2)
	// An image of its own: the node must not know it by another name.
	// (containerd keeps one record per image ID, so the same image loaded
	// by name and pulled from the registry would hide the loaded name
	// from the other tests.)
	settings := projectSettings(t, class)
	settings["agent"].(map[string]any)["install"] = fakeAgentInstall + "# the images test's own image\n"
	ws := writeWorkspace(t, map[string]string{"paude.json": mustJSON(t, settings)})
	u := newUserCLI(t, c, kubeconfig, ws)

	uploads := c.RegistryLogCursor(t)
	watch := watchArgv(token)
	start := time.Now()
	id, stderr := u.must("--detach", "-n", ns)
	cold := time.Since(start)
	hits, scans := watch.finish()
	id = strings.TrimSpace(id)
	t.Logf("MEASURE cold start (push of both images, proxy, pod Ready): %s", cold.Round(10*time.Millisecond))
	if len(hits) != 0 {
		t.Errorf("the token was in a process's argv during the start: %v", hits)
	}
	if scans < 10 {
		t.Errorf("only %d scans of /proc during the start: the argv check proved nothing", scans)
	}
	t.Logf("scanned every process's argv %d times during the start", scans)
	if strings.Contains(stderr, token) || strings.Contains(id, token) {
		t.Errorf("the token is in the output")
	}
	lines, err := uploads.Lines()
	if err != nil {
		t.Fatal(err)
	}
	if n := kubetest.CountBlobUploads(lines); n == 0 {
		t.Errorf("the first start uploaded no blob:\n%s", stderr)
	}
	if strings.Contains(stderr, "Building paude-workspace:") {
		t.Logf("the start built the workspace image (a cold build)")
	}
	for _, want := range []string{"Registry " + c.RegistryRoute, "Pushing paude-workspace:", "Pushing paude-proxy:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the start did not say %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "\x1b") {
		t.Errorf("escape sequences in piped output: %q", stderr)
	}

	// The node pulled the pushed image by the registry's internal name,
	// with the namespace's pull secret.
	pod, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), openshift.PodName(id), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img := pod.Spec.Containers[0].Image
	if !strings.HasPrefix(img, openshift.InternalRegistry+"/"+ns+"/paude-workspace:") || len(pod.Spec.ImagePullSecrets) == 0 {
		t.Errorf("agent image %s, pull secrets %v", img, pod.Spec.ImagePullSecrets)
	}
	ready := "for i in $(seq 100); do tmux capture-pane -p -t claude | grep -q 'FAKE AGENT READY' && break; sleep 0.1; done; tmux capture-pane -p -t claude | grep -c 'FAKE AGENT READY'"
	if out, err := execIn(t, c, ns, id, ready); err != nil || strings.TrimSpace(out) != "1" {
		t.Errorf("the fake agent does not run in the pushed image: %q %v", out, err)
	}

	// The credentials podman keeps: a private directory whose listing does
	// not hold the token.
	checkRegistryFiles(t, u.home, token)

	u.must("stop", id, "-n", ns)
	uploads = c.RegistryLogCursor(t)
	start = time.Now()
	id2, stderr2 := u.must("--detach", "-n", ns)
	t.Logf("MEASURE warm start (images in the registry, proxy running): %s", time.Since(start).Round(10*time.Millisecond))
	lines, err = uploads.Lines()
	if err != nil {
		t.Fatal(err)
	}
	if n := kubetest.CountBlobUploads(lines); n != 0 {
		t.Errorf("the second start uploaded %d blobs; want none:\n%s", n, strings.Join(lines, "\n"))
	}
	if !strings.Contains(stderr2, "is in the registry already") || strings.Contains(stderr2, "Pushing") {
		t.Errorf("the second start did not skip the push:\n%s", stderr2)
	}
	measureManualPush(t, c, ns, token, img)

	u.must("stop", strings.TrimSpace(id2), "-n", ns)
	u.must("stop", "--all", "-n", ns)
	if left := paudeObjects(t, c, ns); len(left) != 0 {
		t.Errorf("left after stop --all: %v", left)
	}
}

// checkRegistryFiles checks the files paude keeps per registry under the
// user's cache: 0700 directories, 0600 files, and no name holding the
// token.
func checkRegistryFiles(t *testing.T, home, token string) {
	t.Helper()
	root := filepath.Join(home, ".cache", "paude", "registries")
	n := 0
	err := filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		n++
		if strings.Contains(path, token) {
			t.Errorf("a file name holds the token: %s", path)
		}
		mode := fi.Mode().Perm()
		if fi.IsDir() && path != root && mode != 0o700 || !fi.IsDir() && mode != 0o600 {
			t.Errorf("%s has mode %o", path, mode)
		}
		return nil
	})
	if err != nil || n < 3 {
		t.Errorf("registry files under %s: %d entries, %v", root, n, err)
	}
}

// measureManualPush times `podman push` of the same local image to a new
// repository by hand, the baseline for the note: what a user would pay
// without paude.
func measureManualPush(t *testing.T, c *kubetest.Cluster, ns, token, pulled string) {
	t.Helper()
	tag := pulled[strings.LastIndexByte(pulled, '/')+1:]
	authfile := filepath.Join(t.TempDir(), "auth.json")
	env := append(os.Environ(), "CONTAINERS_CONF="+podmanConf)
	login := []string{"podman", "login", "--authfile", authfile, "--cert-dir", c.RegistryCertDir,
		"--username", "serviceaccount", "--password-stdin", c.RegistryRoute}
	cmd := execCommand(env, strings.NewReader(token+"\n"), login...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("podman login: %v\n%s", err, out)
	}
	start := time.Now()
	out, err := run(env, "podman", "push", "--authfile", authfile, "--cert-dir", c.RegistryCertDir,
		"localhost/"+tag, fmt.Sprintf("docker://%s/%s/manual-%s", c.RegistryRoute, ns, tag))
	if err != nil {
		t.Fatalf("podman push by hand: %v\n%s", err, tail(out, 10))
	}
	t.Logf("MEASURE podman push of %s by hand to a new repository: %s", tag, time.Since(start).Round(10*time.Millisecond))
}

// TestOpenShiftRegistryFailuresLeaveNothing: a registry that refuses the
// push, one that cannot be reached and one whose certificate is not
// trusted each stop the start with one clear message, before any object
// is created.
func TestOpenShiftRegistryFailuresLeaveNothing(t *testing.T) {
	c := kubetest.Require(t)
	workspaceImage(t)
	ns := c.Namespace(t, restrictedNamespace)
	class := workspaceStorage(t, c, 1)
	ws := writeWorkspace(t, map[string]string{"paude.json": mustJSON(t, projectSettings(t, class))})

	untrusted := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(untrusted.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedAddr := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()

	// Every right a start needs but the push.
	role := "paude-kt-no-push-" + randomSuffix()
	createRole(t, c, role, documentedRules[:len(documentedRules)-1])
	pusherless := c.ServiceAccountToken(t, ns, "kt-no-push", role)
	editor := editorKubeconfig(t, c, ns)
	for _, tt := range []struct {
		name       string
		kubeconfig string
		args       []string
		want       []string
	}{
		{"refused push", tokenKubeconfig(t, c, ns, pusherless), nil,
			[]string{"registry " + c.RegistryRoute, "paude-"}},
		{"unreachable", editor, []string{"--registry", closedAddr},
			[]string{closedAddr, "--registry"}},
		{"untrusted certificate", editor, []string{"--registry", strings.TrimPrefix(untrusted.URL, "https://")},
			[]string{"certificate", "--registry-insecure"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := newUserCLI(t, c, tt.kubeconfig, ws)
			_, stderr, err := u.run(append([]string{"--detach", "-n", ns}, tt.args...)...)
			if err == nil {
				t.Fatalf("the start succeeded:\n%s", stderr)
			}
			t.Logf("message: %s", lastLine(stderr))
			for _, want := range tt.want {
				if !strings.Contains(lastLine(stderr), want) {
					t.Errorf("the message does not say %q:\n%s", want, stderr)
				}
			}
			if left := paudeObjects(t, c, ns); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestOpenShiftDevcontainerBuildReachesTheCluster: a project whose
// devcontainer.json builds its own Dockerfile gets that image, with
// paude's layer on top, built, pushed and run on the cluster.
func TestOpenShiftDevcontainerBuildReachesTheCluster(t *testing.T) {
	c := kubetest.Require(t)
	workspaceImage(t) // podman and the local base image
	ns := c.Namespace(t, restrictedNamespace)
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 1)
	marker := "built-by-the-project-" + randomSuffix()
	devcontainer := map[string]any{
		"build":          map[string]any{"dockerfile": "Dockerfile"},
		"customizations": map[string]any{"paude": projectSettings(t, class)},
	}
	ws := writeWorkspace(t, map[string]string{
		".devcontainer/devcontainer.json": mustJSON(t, devcontainer),
		".devcontainer/Dockerfile":        "FROM docker.io/library/debian:bookworm-slim\nRUN echo " + marker + " > /etc/kt-marker\n",
	})
	u := newUserCLI(t, c, kubeconfig, ws)
	id, stderr := u.must("--detach", "-n", ns)
	id = strings.TrimSpace(id)
	if !strings.Contains(stderr, "from ") || !strings.Contains(stderr, "Dockerfile") {
		t.Errorf("the start did not build the project's Dockerfile:\n%s", stderr)
	}
	if out, err := execIn(t, c, ns, id, "cat /etc/kt-marker"); err != nil || strings.TrimSpace(out) != marker {
		t.Errorf("/etc/kt-marker in the pod: %q %v", out, err)
	}
	u.must("stop", "--all", "-n", ns)
}
