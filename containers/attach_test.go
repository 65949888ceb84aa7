package containers

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// attached is `paude-entrypoint attach` running on a pseudo-terminal
// (util-linux script), with its keyboard behind keys.
type attached struct {
	*running
	keys io.WriteCloser
}

func (h *harness) attach() *attached {
	h.t.Helper()
	requireTool(h.t, "script")
	cmd := exec.Command("script", "-qfec", "bash paude/entrypoint.sh attach", "/dev/null")
	cmd.Env = h.environ()
	keys, err := cmd.StdinPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	a := &attached{running: h.start(cmd), keys: keys}
	h.t.Cleanup(func() { keys.Close() })
	h.waitFor("a tmux client to attach", func() bool {
		out, err := h.tmux("list-clients", "-t", "=claude")
		select {
		case <-a.done:
			h.t.Fatalf("attach exited %d before a client attached; output:\n%s\nstderr:\n%s", a.code, a.stdout.String(), a.stderr.String())
		default:
		}
		return err == nil && strings.TrimSpace(out) != ""
	})
	return a
}

// detach types the prefix key, waits until tmux has seen it (keys typed
// together would count as a paste and bind nothing), then types d.
func (h *harness) detach(a *attached) {
	h.t.Helper()
	if _, err := a.keys.Write([]byte{0x02}); err != nil {
		h.t.Fatal(err)
	}
	h.waitFor("tmux to see the prefix key", func() bool {
		out, _ := h.tmux("list-clients", "-t", "=claude", "-F", "#{client_prefix}")
		return strings.TrimSpace(out) == "1"
	})
	if _, err := a.keys.Write([]byte("d")); err != nil {
		h.t.Fatal(err)
	}
}

func TestEntrypointAttachDetachAndReattach(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	main := h.start(h.command("--first-run"))
	h.agentStarted()

	first := h.attach()
	h.detach(first)
	if code := h.wait(first.running); code != 0 {
		t.Fatalf("attach exited %d after detaching, want 0; output:\n%s", code, first.stdout.String())
	}
	if !h.sessionExists() || h.status() != "running" {
		t.Fatalf("the session did not survive the detach")
	}

	// A second attach takes the session over from a stale client.
	stale := h.attach()
	second := h.attach()
	if code := h.wait(stale.running); code != 0 {
		t.Errorf("the stale client exited %d, want 0 (detached by attach -d)", code)
	}
	h.finishAgent("5")
	if code := h.wait(second.running); code != 5 {
		t.Fatalf("attach exited %d when the agent exited 5; output:\n%s", code, second.stdout.String())
	}
	out := second.stdout.String()
	if i := strings.LastIndex(out, "fake agent exiting with 5"); i < 0 || i < strings.LastIndex(out, "[exited]") {
		t.Errorf("attach did not print the agent's last screen after tmux ended:\n%q", out)
	}
	if code := h.wait(main); code != 5 {
		t.Errorf("main exited %d, want 5", code)
	}
	if got := h.agentArgs(); len(got) != 1 || got[0] != "--first-run" {
		t.Errorf("agent args %q", got)
	}
}

func TestEntrypointAttachRecreatesSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A first run, as main would do it, leaves the argv in the run dir.
	main := h.start(h.command("--saved", "a b"))
	h.agentStarted()
	h.finishAgent("0")
	h.wait(main)
	for _, f := range []string{"args", "exit"} {
		if err := os.Remove(filepath.Join(h.ctl, f)); err != nil {
			t.Fatal(err)
		}
	}
	if h.sessionExists() {
		t.Fatal("session still there")
	}

	a := h.attach()
	h.agentStarted()
	if got := h.agentArgs(); len(got) != 2 || got[0] != "--saved" || got[1] != "a b" {
		t.Errorf("recreated session runs the agent with %q, want main's saved arguments", got)
	}
	if h.status() != "running" {
		t.Errorf("status %q", h.status())
	}
	h.finishAgent("3")
	if code := h.wait(a.running); code != 3 {
		t.Fatalf("attach exited %d, want the agent's 3; output:\n%s", code, a.stdout.String())
	}
	if got := h.status(); got != "exited 3" {
		t.Errorf("status %q, want \"exited 3\"", got)
	}
}

func TestEntrypointAttachWithoutMain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.env["PAUDE_AGENT_ARGS"] = encodeArgs("--baked")
	if got := h.status(); got != "none" {
		t.Errorf("status %q before anything ran, want none", got)
	}
	a := h.attach()
	h.agentStarted()
	if got := h.agentArgs(); len(got) != 1 || got[0] != "--baked" {
		t.Errorf("agent args %q, want the image's", got)
	}
	h.detach(a)
	if code := h.wait(a.running); code != 0 {
		t.Fatalf("attach exited %d after detach", code)
	}
	if !h.sessionExists() {
		t.Fatal("the session created by attach did not survive the detach")
	}
}

func TestEntrypointAttachNeedsTerminal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	main := h.start(h.command())
	h.agentStarted()
	attach := h.start(h.command("attach"))
	code := h.wait(attach)
	if code == 0 {
		t.Fatalf("attach without a terminal exited 0")
	}
	if !strings.Contains(attach.stderr.String(), "not a terminal") {
		t.Errorf("stderr %q does not say a terminal is needed", attach.stderr.String())
	}
	if !h.sessionExists() {
		t.Errorf("a failed attach ended the session")
	}
	h.finishAgent("0")
	h.wait(main)
}
