package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
)

// TestDetach: --detach starts, prints the ID alone on Out and never
// attaches; a session already running for the workspace is printed as
// it is; a pending one is waited for.
func TestDetach(t *testing.T) {
	t.Run("starts without attaching", func(t *testing.T) {
		ws := emptyWorkspace(t)
		f := &fakeBackend{typ: backend.Podman}
		res := runCmd(t, Standalone, f, ws, "--detach")
		if res.code != 0 || res.out != "1700000000-00000001\n" {
			t.Fatalf("exit %d out %q err %q", res.code, res.out, res.errOut)
		}
		if got := calls(f); strings.Contains(got, "\nattach ") || !strings.Contains(got, "start workspace="+ws) {
			t.Fatalf("calls:\n%s", got)
		}
	})
	t.Run("prints the running session of this workspace", func(t *testing.T) {
		ws := emptyWorkspace(t)
		f := &fakeBackend{typ: backend.OpenShift, sessions: twoSessions(ws)}
		res := runCmd(t, KubectlPlugin, f, ws, "-d")
		if res.code != 0 || res.out != "1700000900-00000new\n" || calls(f) != "list" {
			t.Fatalf("exit %d out %q calls %q", res.code, res.out, calls(f))
		}
	})
	t.Run("waits for a pending session", func(t *testing.T) {
		ws := emptyWorkspace(t)
		pending := backend.Session{ID: "1700000800-0pending", Status: backend.StatusPending, CreatedAt: time.Now(), Workspace: ws}
		f := &fakeBackend{typ: backend.OpenShift, sessions: []backend.Session{pending}}
		f.onList = func(n int) {
			if n == 2 {
				f.sessions[0].Status = backend.StatusRunning
			}
		}
		res := runCmd(t, KubectlPlugin, f, ws, "--detach")
		if res.code != 0 || res.out != "1700000800-0pending\n" || calls(f) != "list\nlist" {
			t.Fatalf("exit %d out %q err %q calls %q", res.code, res.out, res.errOut, calls(f))
		}
	})
	t.Run("not with --dry-run", func(t *testing.T) {
		res := runCmd(t, Standalone, &fakeBackend{typ: backend.Podman}, emptyWorkspace(t), "--detach", "--dry-run")
		if res.code != 2 || !strings.Contains(res.errOut, "--detach and --dry-run do not go together") {
			t.Fatalf("exit %d err %q", res.code, res.errOut)
		}
	})
}
