//go:build integration

package kube_test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// testPodman runs podman with a store of its own (a temporary root, vfs),
// so a test never touches the machine's images and containers.
type testPodman struct {
	t    *testing.T
	bin  string
	args []string
}

func newTestPodman(t *testing.T) *testPodman {
	t.Helper()
	bin := requireTool(t, "podman")
	dir := t.TempDir()
	return &testPodman{t: t, bin: bin, args: []string{"--root", dir + "/root", "--runroot", dir + "/run", "--storage-driver", "vfs"}}
}

// run runs podman with args and returns its combined output.
func (p *testPodman) run(args ...string) (string, error) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, p.bin, append(append([]string{}, p.args...), args...)...).CombinedOutput()
	return string(out), err
}

// TestRegistryPodmanPush pushes with podman the way a user (or paude)
// would: to the registry's route on 443, the route's host resolved through
// the testbed's DNS (this process runs under hack/testbed/enter.sh), TLS
// trusted through --cert-dir with the testbed CA, and a Kubernetes token as
// the password. The registry's request log shows the blob uploads, and a
// second push of the same image uploads none. Without the CA, TLS fails;
// without rights in the namespace, the push is refused.
func TestRegistryPodmanPush(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	podman := newTestPodman(t)
	if out, err := podman.run("load", "-i", c.ImageArchive); err != nil {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	local := c.Image
	target := "docker://" + c.RegistryRoute + "/" + ns + "/probe:1"
	creds := "--creds=" + c.User + ":" + c.UserToken

	t.Run("without the testbed CA TLS fails", func(t *testing.T) {
		out, err := podman.run("push", creds, local, target)
		if err == nil || !strings.Contains(out, "x509") {
			t.Fatalf("push without the CA: err=%v, want a certificate error:\n%s", err, out)
		}
	})
	t.Run("without rights in the namespace the push is refused", func(t *testing.T) {
		out, err := podman.run("push", "--cert-dir", c.RegistryCertDir, creds, local, target)
		if err == nil {
			t.Fatalf("a user without rights in %s pushed:\n%s", ns, out)
		}
		if !strings.Contains(strings.ToLower(out), "unauthorized") && !strings.Contains(strings.ToLower(out), "denied") {
			t.Errorf("the push failed, but not for want of rights:\n%s", out)
		}
	})

	c.GrantUser(t, ns, "edit")
	pushes := []struct {
		name        string
		wantUploads bool
	}{
		{"first push uploads the blobs", true},
		{"second push uploads nothing", false},
	}
	for _, tt := range pushes {
		t.Run(tt.name, func(t *testing.T) {
			log := c.RegistryLogCursor(t)
			out, err := podman.run("push", "--cert-dir", c.RegistryCertDir, creds, local, target)
			if err != nil {
				t.Fatalf("podman push: %v\n%s", err, out)
			}
			// The manifest is the push's last request; its access-log line
			// is written as its response completes.
			manifest := `"PUT /v2/` + ns + `/probe/manifests/1 `
			var lines []string
			deadline := time.Now().Add(30 * time.Second)
			for !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, manifest) }) {
				if time.Now().After(deadline) {
					t.Fatalf("the registry log shows no manifest upload for the push:\n%s", strings.Join(lines, "\n"))
				}
				time.Sleep(100 * time.Millisecond)
				if lines, err = log.Lines(); err != nil {
					t.Fatal(err)
				}
			}
			uploads := kubetest.CountBlobUploads(lines)
			if tt.wantUploads && uploads == 0 {
				t.Errorf("the registry log shows no blob upload for the first push")
			}
			if !tt.wantUploads && uploads != 0 {
				t.Errorf("the registry log shows %d blob upload requests for a push of an image it holds", uploads)
			}
		})
	}
}
