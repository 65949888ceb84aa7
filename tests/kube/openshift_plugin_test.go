//go:build integration

package kube_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// TestOpenShiftKubectlFindsThePlugin builds kubectl-paude, puts it on
// PATH, and has the real kubectl built for the testbed run it as a
// plugin: `kubectl paude sessions -n NS` lists the namespace's session.
func TestOpenShiftKubectlFindsThePlugin(t *testing.T) {
	c := kubetest.Require(t)
	kubectl := filepath.Join(c.BinDir, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("the testbed has no kubectl: %v", err)
	}
	ns := c.Namespace(t, nil)
	// A session whose pod is gone but whose workspace is kept: listing it
	// needs no image.
	id, err := backend.NewSessionID(time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	claim, err := openshift.WorkspaceClaimFor(openshift.WorkspaceClaimParams{
		ID: id, Namespace: ns, HostWorkspace: "/home/me/plugin-project", Image: c.Image, CreatedAt: time.Now(),
		Volume: openshift.DefaultConfig().Backend.Workspace,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openshift.ServerSideApply(context.Background(), c.Client, claim); err != nil {
		t.Fatal(err)
	}

	home := t.TempDir()
	cmd := exec.Command(kubectl, "paude", "sessions", "-n", ns)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + filepath.Dir(pluginBinary(t)) + ":" + rootPath, "HOME=" + home, "KUBECONFIG=" + c.Kubeconfig}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl paude sessions: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), id) || !strings.Contains(string(out), "/home/me/plugin-project") {
		t.Errorf("kubectl paude sessions output lacks the session:\n%s", out)
	}
	t.Logf("kubectl paude sessions -n %s:\n%s", ns, out)
}

var (
	pluginOnce sync.Once
	pluginPath string
	pluginErr  error
)

// pluginBinary is cmd/kubectl-paude, built once per test binary into a
// directory of its own that can go on PATH, as `make build` builds it
// (static, CGO off): it is also the sync helper the session image carries.
// It builds from the module cache only: the testbed's network namespace
// reaches no module proxy, and building the tests filled the cache.
func pluginBinary(t testing.TB) string {
	t.Helper()
	pluginOnce.Do(func() {
		pluginPath = filepath.Join(scratch, "bin", "kubectl-paude")
		build := exec.Command("go", "build", "-trimpath", "-o", pluginPath, "./cmd/kubectl-paude")
		build.Dir = repoRoot(t)
		build.Env = append(os.Environ(), "GOPROXY=off", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			pluginErr = fmt.Errorf("failed to build kubectl-paude: %w\n%s", err, out)
		}
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginPath
}

// TestOpenShiftDetachAndSessionsJSON drives `kubectl paude` through the
// testbed's real kubectl as a script would: `kubectl paude --detach`
// starts the workspace's session, waits until the agent is ready and
// prints only its ID; `kubectl paude sessions -o json` then lists that ID
// as running.
func TestOpenShiftDetachAndSessionsJSON(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 1)
	img := workspaceImage(t)
	ws := writeWorkspace(t, map[string]string{"paude.json": mustJSON(t, projectSettings(t, class))})
	kubectl := filepath.Join(c.BinDir, "kubectl")
	plugin := pluginBinary(t)
	home := t.TempDir()
	run := func(args ...string) (string, string) {
		t.Helper()
		defer func(start time.Time) {
			t.Logf("MEASURE kubectl paude %s: %s", strings.Join(args, " "), time.Since(start).Round(10*time.Millisecond))
		}(time.Now())
		cmd := exec.Command(kubectl, append([]string{"paude"}, args...)...)
		cmd.Dir = ws
		cmd.Env = []string{"PATH=" + filepath.Dir(plugin) + ":" + rootPath, "HOME=" + home, "KUBECONFIG=" + kubeconfig,
			"CONTAINERS_CONF=" + podmanConf}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl paude %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	run("trust", "--yes") // the developer's own configuration
	out, stderr := run("--detach", "-n", ns, "--image", img)
	id := strings.TrimSuffix(out, "\n")
	if backend.ValidateSessionID(id) != nil {
		t.Fatalf("--detach printed %q, want the session ID alone\nstderr:\n%s", out, stderr)
	}
	out, _ = run("sessions", "-o", "json", "-n", ns)
	var list struct {
		Items []struct{ ID, Status, Workspace, Backend string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("sessions -o json is not JSON: %v\n%s", err, out)
	}
	if len(list.Items) != 1 || list.Items[0].ID != id || list.Items[0].Status != "running" ||
		list.Items[0].Workspace != ws || list.Items[0].Backend != "openshift" {
		t.Errorf("sessions -o json = %+v, want %s running", list.Items, id)
	}
	run("stop", id, "-n", ns)
}
