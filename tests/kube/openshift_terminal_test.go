//go:build integration

package kube_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
// capture-pane. Its screen is only what the current command drew.
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
	// exited at once, so its exit status can still be read. exit-empty
	// off keeps the server up while run replaces the only session: a
	// server exiting as the next new-session connects fails that
	// new-session with "server exited unexpectedly".
	conf := filepath.Join(t.TempDir(), "tmux.conf")
	if err := os.WriteFile(conf, []byte("set -g remain-on-exit on\nset -s exit-empty off\n"), 0o644); err != nil {
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

// run starts argv in a fresh 120x40 pane (replacing the previous one)
// under a small shell that prints its exit status when it ends ("[kt-exit
// N]", 128+N for signal N): tmux's own record of it is unreliable.
func (tm *terminal) run(argv ...string) time.Time {
	tm.t.Helper()
	_ = exec.Command("tmux", "-L", tm.socket, "kill-session", "-t", "main").Run()
	args := []string{"new-session", "-d", "-s", "main", "-x", "120", "-y", "40"}
	for _, kv := range tm.env {
		args = append(args, "-e", kv)
	}
	wrapper := []string{"sh", "-c", `"$@"; echo "[kt-exit $?]"`, "sh"}
	tm.tmux(append(append(append(args, "--"), wrapper...), argv...)...)
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

// waitCols asks the agent's shell for its terminal width until it is
// cols. A size travels client → API server → kubelet → the pod's
// terminal → tmux, asynchronously, so it asks again until it arrives.
func (tm *terminal) waitCols(cols int) time.Duration {
	tm.t.Helper()
	start := time.Now()
	want := fmt.Sprintf("cols=%d", cols)
	for !strings.Contains(tm.screen(), want) {
		if time.Since(start) > 2*time.Minute {
			tm.t.Fatalf("the agent never saw %d columns; screen:\n%s", cols, tm.screen())
		}
		tm.send("clear; echo cols=$(tput cols)", "Enter")
		time.Sleep(200 * time.Millisecond)
	}
	return time.Since(start).Round(10 * time.Millisecond)
}

// exitRE finds the wrapper's exit status line.
var exitRE = regexp.MustCompile(`\[kt-exit (\d+)\]`)

// waitExit waits for the pane's command to end and returns its exit
// status, or 128+N when signal N killed it.
func (tm *terminal) waitExit() int {
	tm.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if m := exitRE.FindStringSubmatch(tm.screen()); m != nil {
			code, _ := strconv.Atoi(m[1])
			return code
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the attach client did not exit; screen:\n%s", tm.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL to the attach client, as a crash or a closed laptop
// would end it, with no chance to detach.
func (tm *terminal) kill() {
	tm.t.Helper()
	shell := strings.TrimSpace(tm.tmux("display-message", "-p", "-t", "main", "#{pane_pid}"))
	children, err := os.ReadFile("/proc/" + shell + "/task/" + shell + "/children")
	if err != nil {
		tm.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(children)))
	if err != nil {
		tm.t.Fatalf("cannot find the attach client under pid %s: %q", shell, children)
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
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 1)
	home := writeHome(t, map[string]string{".gitconfig": "[user]\n\tname = Test\n"})
	b := paudeBackend(t, kubeconfig, ns, sessionConfig(class, false), home, &syncBuffer{})
	ctx := context.Background()
	s, err := b.StartSession(ctx, backend.SessionSpec{Image: img, Workspace: hostWorkspace(t, "proj")})
	if err != nil {
		t.Fatal(err)
	}
	term := newTerminal(t, []string{"HOME=" + home})
	attach := attachArgv(t, kubeconfig, ns, s.ID)

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
	t.Logf("MEASURE initial size reached the agent within %s", term.waitCols(120))
	term.tmux("resize-window", "-t", "main", "-x", "100", "-y", "30")
	t.Logf("MEASURE resize reached the agent within %s", term.waitCols(100))
	term.send("clear; echo $((6*7))-"+marker, "Enter")
	term.waitFor("42-" + marker)

	term.kill()
	if code := term.waitExit(); code != 128+9 {
		t.Fatalf("killed client: exit %d, want 137", code)
	}
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
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 1)
	home := writeHome(t, map[string]string{".gitconfig": "[user]\n"})
	cfg := sessionConfig(class, true)
	cfg.Setup = `echo ran >> "$PAUDE_STATE_DIR/setup-count"`
	b := paudeBackend(t, kubeconfig, ns, cfg, home, &syncBuffer{})
	ctx := context.Background()
	s, err := b.StartSession(ctx, backend.SessionSpec{Image: img, Workspace: hostWorkspace(t, "proj"), AgentArgs: []string{"--first"}})
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
	attach := attachArgv(t, kubeconfig, ns, s.ID)
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
