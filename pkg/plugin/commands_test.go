package plugin

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
)

func testStreams() genericiooptions.IOStreams {
	return genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
}

func twoSessions(workspace string) []backend.Session {
	now := time.Now()
	return []backend.Session{
		{ID: "1700000000-00000old", Status: backend.StatusRunning, CreatedAt: now.Add(-time.Hour), Workspace: "/elsewhere"},
		{ID: "1700000900-00000new", Status: backend.StatusRunning, CreatedAt: now, Workspace: workspace},
	}
}

func TestAttachDefaultsToNewestAndPassesExitCode(t *testing.T) {
	f := &fakeBackend{typ: backend.Podman, sessions: twoSessions("/w"), attachCode: 3}
	res := runCmd(t, Standalone, f, "", "attach")
	if res.code != 3 {
		t.Fatalf("exit %d, want the agent's 3; stderr %q", res.code, res.errOut)
	}
	if got := calls(f); got != "list\nattach 1700000900-00000new" {
		t.Fatalf("calls:\n%s", got)
	}
}

func TestAttachWithoutSessions(t *testing.T) {
	res := runCmd(t, Standalone, &fakeBackend{typ: backend.Podman}, "", "attach")
	if res.code != 1 || !strings.Contains(res.errOut, "no podman sessions: start one with 'paude'") {
		t.Fatalf("exit %d stderr %q", res.code, res.errOut)
	}
}

func TestStop(t *testing.T) {
	t.Run("named", func(t *testing.T) {
		f := &fakeBackend{typ: backend.Podman}
		res := runCmd(t, Standalone, f, "", "stop", "1700000000-deadbeef")
		if res.code != 0 || calls(f) != "stop 1700000000-deadbeef" {
			t.Fatalf("exit %d calls %q", res.code, calls(f))
		}
	})
	t.Run("all via StopAll", func(t *testing.T) {
		f := &fakeBackend{typ: backend.Podman, sessions: twoSessions("/w")}
		res := runCmd(t, Standalone, fakeAllStopper{f}, "", "stop", "--all")
		if res.code != 0 || calls(f) != "stop-all" {
			t.Fatalf("exit %d calls %q", res.code, calls(f))
		}
	})
	t.Run("all one by one", func(t *testing.T) {
		f := &fakeBackend{typ: backend.Podman, sessions: twoSessions("/w")}
		res := runCmd(t, Standalone, f, "", "stop", "--all")
		if res.code != 0 || calls(f) != "list\nstop 1700000000-00000old\nstop 1700000900-00000new" {
			t.Fatalf("exit %d calls %q", res.code, calls(f))
		}
	})
}

func TestStartOrReattach(t *testing.T) {
	t.Run("starts and attaches when nothing runs here", func(t *testing.T) {
		ws := emptyWorkspace(t)
		f := &fakeBackend{typ: backend.Podman, sessions: twoSessions("/not/here")}
		res := runCmd(t, Standalone, f, ws, "--yolo", "--", "--model", "opus")
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.errOut)
		}
		want := "list\nstart workspace=" + ws + ` yolo=true allow-network=false rebuild=false args=["--model" "opus"]` +
			"\nattach 1700000000-00000001"
		if got := calls(f); got != want {
			t.Fatalf("calls:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("reattaches to the running session of this workspace", func(t *testing.T) {
		ws := emptyWorkspace(t)
		f := &fakeBackend{typ: backend.Podman, sessions: twoSessions(ws)}
		res := runCmd(t, Standalone, f, ws)
		if res.code != 0 || calls(f) != "list\nattach 1700000900-00000new" {
			t.Fatalf("exit %d calls %q", res.code, calls(f))
		}
		if !strings.Contains(res.errOut, "Reattaching to session 1700000900-00000new") {
			t.Fatalf("stderr %q", res.errOut)
		}
	})
	t.Run("a workspace reached through a symlink is the directory's real name", func(t *testing.T) {
		// macOS's /tmp and /var are symlinks into /private, which is what
		// podman's machine shares: the label, the mount and the check for
		// a running session all use the real name.
		ws := emptyWorkspace(t)
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(ws, link); err != nil {
			t.Fatal(err)
		}
		f := &fakeBackend{typ: backend.Podman, sessions: twoSessions(ws)}
		res := runCmd(t, Standalone, f, link)
		if res.code != 0 || calls(f) != "list\nattach 1700000900-00000new" {
			t.Fatalf("exit %d calls %q", res.code, calls(f))
		}
		f = &fakeBackend{typ: backend.Podman}
		if res := runCmd(t, Standalone, f, link, "--detach"); res.code != 0 || !strings.Contains(calls(f), "start workspace="+ws+" ") {
			t.Fatalf("exit %d calls %q", res.code, calls(f))
		}
	})
	t.Run("reattaches to a pending session of this workspace, not to a stopped one", func(t *testing.T) {
		ws := emptyWorkspace(t)
		now := time.Now()
		f := &fakeBackend{typ: backend.OpenShift, sessions: []backend.Session{
			{ID: "1700000900-0stopped", Status: backend.StatusStopped, CreatedAt: now, Workspace: ws},
			{ID: "1700000800-0pending", Status: backend.StatusPending, CreatedAt: now.Add(-time.Minute), Workspace: ws},
		}}
		res := runCmd(t, KubectlPlugin, f, ws)
		if res.code != 0 || calls(f) != "list\nattach 1700000800-0pending" {
			t.Fatalf("exit %d calls %q", res.code, calls(f))
		}
	})
	t.Run("warns of DevSpace sync on a cluster", func(t *testing.T) {
		for _, tc := range []struct {
			typ    backend.Type
			flavor Flavor
			method string
			warn   bool
		}{
			{backend.OpenShift, KubectlPlugin, "devspace", true},
			{backend.OpenShift, KubectlPlugin, "native", false},
			{backend.Podman, Standalone, "devspace", false}, // Podman mounts the workspace: no sync
		} {
			ws := emptyWorkspace(t)
			writeFile(t, ws, "paude.json", `{"sync": {"method": "`+tc.method+`"}}`)
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			if res := runCmd(t, tc.flavor, &fakeBackend{typ: tc.typ}, ws, "trust", "--yes"); res.code != 0 {
				t.Fatalf("trust: exit %d: %s", res.code, res.errOut)
			}
			res := runCmd(t, tc.flavor, &fakeBackend{typ: tc.typ}, ws, "--backend", string(tc.typ))
			if got := strings.Contains(res.errOut, `WARNING: sync.method is "devspace"`); got != tc.warn {
				t.Errorf("%s, %s: warning %v, want %v; stderr:\n%s", tc.typ, tc.method, got, tc.warn, res.errOut)
			}
		}
	})
	t.Run("warns loudly for yolo with allow-network", func(t *testing.T) {
		f := &fakeBackend{typ: backend.Podman}
		res := runCmd(t, Standalone, f, emptyWorkspace(t), "--yolo", "--allow-network")
		if !strings.Contains(res.errOut, "DANGER: --yolo with --allow-network") {
			t.Fatalf("stderr %q", res.errOut)
		}
	})
}

func TestBadConfigReachesNoBackend(t *testing.T) {
	ws := emptyWorkspace(t)
	writeFile(t, ws, "paude.json", "{\n  \"packages\": [\"gcc;curl x|sh\"]\n}\n")
	f := &fakeBackend{typ: backend.Podman}
	res := runCmd(t, Standalone, f, ws)
	if res.code != 1 || !strings.Contains(res.errOut, "paude.json:2:16") {
		t.Fatalf("exit %d stderr %q", res.code, res.errOut)
	}
	if res.built || len(f.calls) != 0 {
		t.Fatalf("a rejected configuration reached the backend: %s", calls(f))
	}
}

func TestVersion(t *testing.T) {
	res := runCmd(t, KubectlPlugin, nil, "", "version")
	if res.code != 0 || !strings.HasPrefix(res.out, "kubectl-paude dev (commit unknown") {
		t.Fatalf("exit %d out %q", res.code, res.out)
	}
}
