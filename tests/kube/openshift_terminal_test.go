//go:build integration

package kube_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// attachArgv is what a user types to attach: the built plugin binary,
// exactly as kubectl runs it for `kubectl paude attach ID -n NS`.
func attachArgv(t *testing.T, kubeconfig, ns, id string) []string {
	return []string{pluginBinary(t), "attach", id, "-n", ns, "--kubeconfig", kubeconfig}
}

// terminal is a real terminal: a pane of a private tmux server on the
// host, running a command, typed into with send-keys and read with
// capture-pane.
type terminal struct {
	t      *testing.T
	socket string
	conf   string
	env    []string
}

func newTerminal(t *testing.T, env []string) *terminal {
	t.Helper()
	requireTool(t, "tmux")
	// remain-on-exit from the server's start keeps a pane whose client
	// exited at once, so its exit status can still be read.
	conf := filepath.Join(t.TempDir(), "tmux.conf")
	if err := os.WriteFile(conf, []byte("set -g remain-on-exit on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, socket: "paude-kt-" + randomSuffix(), conf: conf, env: env}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("terminal at the end:\n%s", term.screen())
		}
		_ = exec.Command("tmux", "-L", term.socket, "kill-server").Run()
	})
	return term
}

// tmux runs one tmux command on the private server.
func (tm *terminal) tmux(args ...string) string {
	tm.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-L", tm.socket, "-f", tm.conf}, args...)...)
	cmd.Env = append(os.Environ(), tm.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// run starts argv in the pane (a new one the first time, replacing the
// dead one after), 120x40, keeping the pane after it exits so its exit
// status can be read.
func (tm *terminal) run(argv ...string) time.Time {
	tm.t.Helper()
	if err := exec.Command("tmux", "-L", tm.socket, "has-session", "-t", "main").Run(); err != nil {
		args := []string{"new-session", "-d", "-s", "main", "-x", "120", "-y", "40"}
		for _, kv := range tm.env {
			args = append(args, "-e", kv)
		}
		tm.tmux(append(append(args, "--"), argv...)...)
	} else {
		tm.tmux(append([]string{"respawn-pane", "-k", "-t", "main"}, argv...)...)
	}
	return time.Now()
}

func (tm *terminal) screen() string {
	out, _ := exec.Command("tmux", "-L", tm.socket, "capture-pane", "-p", "-J", "-S", "-200", "-t", "main").CombinedOutput()
	return string(out)
}

// waitFor waits until the screen shows want; the deadline is for a hung
// cluster, not a performance expectation.
func (tm *terminal) waitFor(want string) time.Duration {
	tm.t.Helper()
	start := time.Now()
	deadline := start.Add(2 * time.Minute)
	for !strings.Contains(tm.screen(), want) {
		if time.Now().After(deadline) {
			tm.t.Fatalf("terminal never showed %q; screen:\n%s", want, tm.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

func (tm *terminal) send(keys ...string) {
	tm.t.Helper()
	tm.tmux(append([]string{"send-keys", "-t", "main"}, keys...)...)
}

// waitExit waits for the pane's command to end and returns its status.
func (tm *terminal) waitExit() int {
	tm.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		fields := strings.Fields(tm.tmux("display-message", "-p", "-t", "main", "#{pane_dead} #{pane_dead_status}"))
		if len(fields) == 2 && fields[0] == "1" {
			code, _ := strconv.Atoi(fields[1])
			return code
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the attach client did not exit; screen:\n%s", tm.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL to the pane's command, as a crash or a closed laptop
// would end it, with no chance to detach.
func (tm *terminal) kill() {
	tm.t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(tm.tmux("display-message", "-p", "-t", "main", "#{pane_pid}")))
	if err != nil {
		tm.t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		tm.t.Fatal(err)
	}
}

// TestOpenShiftAttachThroughATerminal drives a session as a user would,
// from a real terminal: attach, type, detach with C-b d, reattach and
// find the screen as it was, resize, kill the client outright and
// reattach, list, then end the agent and get its exit code back.
func TestOpenShiftAttachThroughATerminal(t *testing.T) {
	c := kubetest.Require(t)
	img := workspaceImage(t)
	ns := c.Namespace(t, restrictedNamespace)
	class := workspaceStorage(t, c, 1)
	home := writeHome(t, map[string]string{".gitconfig": "[user]\n\tname = Test\n"})
	b := paudeBackend(t, c.Kubeconfig, ns, sessionConfig(class, false), home, &syncBuffer{})
	ctx := context.Background()
	s, err := b.StartSession(ctx, backend.StartOptions{Image: img, Workspace: "/home/me/proj"})
	if err != nil {
		t.Fatal(err)
	}
	term := newTerminal(t, []string{"HOME=" + home})
	attach := attachArgv(t, c.Kubeconfig, ns, s.ID)

	term.run(attach...)
	t.Logf("MEASURE first attach, client start to the agent's screen: %s", term.waitFor("FAKE AGENT READY uid=1000 gid=0 pwd=/workspace/proj"))
	marker := randomSuffix()
	term.send("echo $((6*7))-"+marker, "Enter")
	term.waitFor("42-" + marker)

	term.send("C-b", "d")
	if code := term.waitExit(); code != 0 {
		t.Fatalf("detach: exit code %d, want 0", code)
	}
	term.run(attach...)
	t.Logf("MEASURE reattach, client start to the preserved screen: %s", term.waitFor("42-"+marker))

	// The terminal's size reaches the agent, and so do later resizes.
	term.tmux("resize-window", "-t", "main", "-x", "100", "-y", "30")
	term.send("echo cols=$(tput cols)", "Enter")
	term.waitFor("cols=100")

	term.kill()
	term.waitExit()
	term.run(attach...)
	t.Logf("MEASURE reattach after the client was killed: %s", term.waitFor("42-"+marker))
	term.send("echo still-$((1+1))-"+marker, "Enter")
	term.waitFor("still-2-" + marker)

	sessions, err := b.ListSessions(ctx)
	if err != nil || len(sessions) != 1 || sessions[0].Status != backend.StatusRunning {
		t.Fatalf("sessions while attached: %+v, %v", sessions, err)
	}

	term.send("exit 7", "Enter")
	if code := term.waitExit(); code != 7 {
		t.Errorf("attach exit code after the agent exited 7: %d, want 7; screen:\n%s", code, term.screen())
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		sessions, err = b.ListSessions(ctx)
		if err == nil && len(sessions) == 1 && sessions[0].Status != backend.StatusRunning || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(sessions) != 1 || sessions[0].Status != backend.StatusError || sessions[0].Reason != "exited with code 7" {
		t.Errorf("sessions after the agent exited: %+v, %v", sessions, err)
	}
	if err := b.StopSession(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if left := labelledObjects(t, c, ns, s.ID); len(left) != 0 {
		t.Errorf("objects labelled with the session after stop: %v", left)
	}
}

// TestOpenShiftResumeKeptWorkspace stops a session whose workspace is
// kept, attaches again and finds a new pod on the same claim: the file
// written before is there and the setup command did not run twice.
func TestOpenShiftResumeKeptWorkspace(t *testing.T) {
	c := kubetest.Require(t)
	img := workspaceImage(t)
	ns := c.Namespace(t, restrictedNamespace)
	class := workspaceStorage(t, c, 1)
	home := writeHome(t, map[string]string{".gitconfig": "[user]\n"})
	cfg := sessionConfig(class, true)
	cfg.Setup = `echo ran >> "$PAUDE_STATE_DIR/setup-count"`
	b := paudeBackend(t, c.Kubeconfig, ns, cfg, home, &syncBuffer{})
	ctx := context.Background()
	s, err := b.StartSession(ctx, backend.StartOptions{Image: img, Workspace: "/home/me/proj", AgentArgs: []string{"--first"}})
	if err != nil {
		t.Fatal(err)
	}
	waitSetup := "for i in $(seq 300); do test -s /workspace/.paude/setup-count && break; sleep 0.1; done; cat /workspace/.paude/setup-count"
	if out, err := execIn(t, c, ns, s.ID, waitSetup+"; echo kept > /workspace/proj/kept.txt"); err != nil || out != "ran\n" {
		t.Fatalf("setup: %q, %v", out, err)
	}
	if err := b.StopSession(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	sessions, err := b.ListSessions(ctx)
	if err != nil || len(sessions) != 1 || sessions[0].Status != backend.StatusStopped || sessions[0].Reason != openshift.ReasonKept {
		t.Fatalf("sessions after stop: %+v, %v", sessions, err)
	}

	term := newTerminal(t, []string{"HOME=" + home})
	attach := attachArgv(t, c.Kubeconfig, ns, s.ID)
	term.run(attach...)
	term.waitFor("has no pod; resuming it on its kept workspace volume")
	t.Logf("MEASURE resume, client start to the agent's screen: %s", term.waitFor("FAKE AGENT READY"))
	term.waitFor("args:--first")
	if out, err := execIn(t, c, ns, s.ID, waitSetup+"; cat /workspace/proj/kept.txt"); err != nil || out != "ran\nkept\n" {
		t.Errorf("after resume: %q, %v; want the kept file and setup run once", out, err)
	}
	term.send("C-b", "d")
	if code := term.waitExit(); code != 0 {
		t.Errorf("detach: %d", code)
	}
	var out syncBuffer
	if err := b.StopSession(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.Cleanup(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if left := labelledObjects(t, c, ns, s.ID); len(left) != 0 {
		t.Errorf("objects left after stop and cleanup: %v\n%s", left, out.String())
	}
}
