package containers

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// arbitraryUID is an OpenShift-style UID with no passwd entry.
const arbitraryUID = 1000680000

// asUID wraps cmd to run as arbitraryUID in group 0, as OpenShift runs
// images.
func asUID(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	setpriv := requireTool(t, "setpriv")
	args := append([]string{"--reuid=" + strconv.Itoa(arbitraryUID), "--regid=0", "--clear-groups", "--"}, cmd.Args...)
	wrapped := exec.Command(setpriv, args...)
	wrapped.Env = cmd.Env
	wrapped.Dir = cmd.Dir
	return wrapped
}

func TestEntrypointArbitraryUID(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		missing(t, "switching to an arbitrary UID needs root")
	}
	requireTool(t, "git")
	h := newHarness(t)
	// Group 0 may enter and write everything, as in the image.
	for _, d := range []string{filepath.Dir(h.root), h.root, h.ws, h.ctl, h.tmp} {
		if err := os.Chmod(d, 0o770); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(h.root, "fake-agent"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "init", "-q", h.ws).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	if err := exec.Command("chmod", "-R", "g=u", h.ws).Run(); err != nil {
		t.Fatal(err)
	}
	home := "/tmp/paude-home-" + strconv.Itoa(arbitraryUID)
	if _, err := os.Stat(home); os.IsNotExist(err) {
		t.Cleanup(func() { os.RemoveAll(home) })
	}
	h.env["HOME"] = "/"
	h.env["PAUDE_STATE_DIR"] = filepath.Join(h.root, "state")
	t.Cleanup(func() {
		_ = asUID(t, exec.Command("env", "TMUX_TMPDIR="+h.tmp, "tmux", "kill-server")).Run()
	})

	// Without paude's fallback, git refuses the repository.
	plain := asUID(t, exec.Command("git", "-C", h.ws, "status"))
	plain.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + h.root}
	if out, err := plain.CombinedOutput(); err == nil || !strings.Contains(string(out), "dubious ownership") {
		t.Fatalf("git as UID %d worked without safe.directory (%v): the test proves nothing\n%s", arbitraryUID, err, out)
	}

	main := h.start(asUID(t, h.command()))
	h.agentStarted()
	if got := h.read(filepath.Join(h.ctl, "git")); strings.Contains(got, "git failed") || strings.Contains(got, "dubious") {
		t.Errorf("git in the workspace failed under UID %d: %s", arbitraryUID, got)
	}
	if got := strings.TrimSpace(h.read(filepath.Join(h.ctl, "home"))); got != home {
		t.Errorf("HOME %q, want the fallback %q", got, home)
	}
	status, err := asUID(t, h.command("status")).Output()
	if err != nil || strings.TrimSpace(string(status)) != "running" {
		t.Errorf("status as UID %d: %q, %v", arbitraryUID, status, err)
	}
	h.finishAgent("4")
	if code := h.wait(main); code != 4 {
		t.Fatalf("main exited %d, want 4; stderr:\n%s", code, main.stderr.String())
	}
}
