//go:build integration

package kube_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	cmd.Env = []string{"PATH=" + filepath.Dir(pluginBinary(t)) + ":/usr/bin:/bin", "HOME=" + home, "KUBECONFIG=" + c.Kubeconfig}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl paude sessions: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), id) || !strings.Contains(string(out), "/home/me/plugin-project") {
		t.Errorf("kubectl paude sessions output lacks the session:\n%s", out)
	}
	t.Logf("kubectl paude sessions -n %s:\n%s", ns, out)
}

// pluginBinary builds cmd/kubectl-paude into a directory of the test's
// own that can go on PATH. It builds from the module cache only: the
// testbed's network namespace reaches no module proxy, and building the
// tests filled the cache.
func pluginBinary(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubectl-paude")
	build := exec.Command("go", "build", "-o", path, "./cmd/kubectl-paude")
	build.Dir = repoRoot(t)
	build.Env = append(os.Environ(), "GOPROXY=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("failed to build kubectl-paude: %v\n%s", err, out)
	}
	return path
}
