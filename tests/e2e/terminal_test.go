//go:build e2e

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostTerminal is a terminal on the host: a tmux server of the test's own
// (private socket) with one pane running bash, driven by send-keys and
// read by capture-pane, as a person at a terminal would.
type hostTerminal struct {
	t      *testing.T
	socket string
}

func newHostTerminal(t *testing.T, dir string, env []string) *hostTerminal {
	t.Helper()
	h := &hostTerminal{t: t, socket: fmt.Sprintf("paude-e2e-%d", rand.Uint32())}
	args := []string{"-L", h.socket, "-f", "/dev/null", "new-session", "-d", "-s", "term", "-x", "160", "-y", "45",
		"-c", dir, "env", "-i"}
	args = append(args, env...)
	args = append(args, "bash", "--norc", "--noprofile")
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("host tmux: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", h.socket, "kill-server").Run() })
	h.tmux("set-option", "-g", "history-limit", "5000")
	return h
}

func (h *hostTerminal) tmux(args ...string) string {
	h.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", h.socket}, args...)...).CombinedOutput()
	if err != nil {
		h.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// typeLine types a line and Enter.
func (h *hostTerminal) typeLine(line string) {
	h.t.Helper()
	h.tmux("send-keys", "-t", "term:", "-l", line)
	h.tmux("send-keys", "-t", "term:", "Enter")
}

// keys sends tmux key names (C-b, d, ...).
func (h *hostTerminal) keys(keys ...string) {
	h.t.Helper()
	h.tmux(append([]string{"send-keys", "-t", "term:"}, keys...)...)
}

// screen is what the terminal shows now.
func (h *hostTerminal) screen() string {
	h.t.Helper()
	return h.tmux("capture-pane", "-p", "-t", "term:")
}

// clear empties the screen and the scrollback, so a later wait only sees
// new output.
func (h *hostTerminal) clear() {
	h.t.Helper()
	h.typeLine("clear")
	time.Sleep(200 * time.Millisecond)
	h.tmux("clear-history", "-t", "term:")
}

// waitFor waits until the screen matches re and returns the match.
func (h *hostTerminal) waitFor(re string, timeout time.Duration) []string {
	h.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		sc := h.screen()
		if m := rx.FindStringSubmatch(sc); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %s waiting for /%s/ on the terminal:\n%s", timeout, re, sc)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// shellPID is the PID of the pane's bash.
func (h *hostTerminal) shellPID() int {
	h.t.Helper()
	var pid int
	if _, err := fmt.Sscan(h.tmux("display-message", "-p", "-t", "term:", "#{pane_pid}"), &pid); err != nil {
		h.t.Fatal(err)
	}
	return pid
}

// descendants lists the PIDs below pid, children first.
func descendants(pid int) []int {
	out, _ := exec.Command("pgrep", "-P", fmt.Sprint(pid)).Output()
	var all []int
	for _, f := range strings.Fields(string(out)) {
		var c int
		if _, err := fmt.Sscan(f, &c); err == nil {
			all = append(all, c)
			all = append(all, descendants(c)...)
		}
	}
	return all
}

// TestTerminalSession drives the built paude binary through a real
// terminal: start, detach, list, reattach, a killed client, reattach from
// the root command, stop, the agent's exit code, and stop --all.
func TestTerminalSession(t *testing.T) {
	bin := needPaude(t)
	ws := newWorkspace(t, fakeAgentConfig(nil))
	home := t.TempDir()
	env := []string{
		"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"),
		"HOME=" + home, "TERM=xterm-256color", "LANG=C.UTF-8",
		"CONTAINERS_CONF=" + os.Getenv("CONTAINERS_CONF"),
		// Images only from local storage; the proxy resolves through its
		// /etc/hosts alone and never asks a DNS server.
		"PAUDE_PODMAN_PULL=never",
		"PAUDE_PODMAN_PROXY_HOSTS=" + allowedName + "=" + fakeIP,
		"PS1=host$ ",
		"HISTFILE=", // bash writes no history into HOME as the test ends
	}
	paude := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = ws, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("paude %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	term := newHostTerminal(t, ws, env)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("terminal at the end:\n%s", term.screen())
		}
	})
	term.waitFor(`(?m)^host\$`, 10*time.Second)

	// Start: the agent's screen appears in the terminal.
	term.typeLine("paude; echo PAUDE-EXIT=$?")
	term.waitFor(`FAKE AGENT READY`, 3*time.Minute)
	term.waitFor(`(?m)^fake-agent\$`, 30*time.Second)
	term.typeLine("echo state-$((6*7))-kept")
	term.waitFor(`state-42-kept`, 10*time.Second)

	// C-b d detaches; paude returns 0 and the session keeps running.
	term.keys("C-b", "d")
	term.waitFor(`PAUDE-EXIT=0`, 20*time.Second)
	out := paude("sessions")
	m := regexp.MustCompile(`(?m)^(\d+-[0-9a-f]{8})\s+running\s+.*ago\s+` + regexp.QuoteMeta(ws) + `\s*$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("paude sessions does not list a running session for %s:\n%s", ws, out)
	}
	id := m[1]

	// paude attach shows the preserved state.
	term.clear()
	term.typeLine("paude attach; echo PAUDE-EXIT=$?")
	term.waitFor(`state-42-kept`, 20*time.Second)

	// Kill the attaching client as a dying terminal would.
	var killed []int
	for _, pid := range descendants(term.shellPID()) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			killed = append(killed, pid)
		}
	}
	if len(killed) == 0 {
		t.Fatal("found no attaching client to kill")
	}
	term.waitFor(`PAUDE-EXIT=137`, 10*time.Second)
	term.typeLine("stty sane")
	if s := strings.TrimSpace(paude("sessions")); !strings.Contains(s, id) || !strings.Contains(s, "running") {
		t.Fatalf("the session did not survive its client being killed:\n%s", s)
	}

	// paude in the same workspace reattaches (detaching the stale client).
	term.clear()
	term.typeLine("paude; echo PAUDE-EXIT=$?")
	term.waitFor(`Reattaching to session `+id, 20*time.Second)
	term.waitFor(`state-42-kept`, 20*time.Second)
	term.keys("C-b", "d")
	term.waitFor(`PAUDE-EXIT=0`, 20*time.Second)

	// paude stop removes it.
	paude("stop", id)
	if names := containersWithLabel(t, "paude.io/session-id="+id); len(names) != 0 {
		t.Fatalf("paude stop left %q", names)
	}

	// A new session: the agent's exit code comes back through attach.
	term.clear()
	term.typeLine("paude; echo PAUDE-EXIT=$?")
	term.waitFor(`(?m)^fake-agent\$`, time.Minute)
	term.typeLine("exit 7")
	term.waitFor(`PAUDE-EXIT=7`, 20*time.Second)

	// paude stop --all leaves no paude container, network or proxy.
	paude("stop", "--all")
	if names := containersWithLabel(t, "app=paude"); len(names) != 0 {
		t.Errorf("paude stop --all left containers %q", names)
	}
	if out, err := podmanCmd("network", "exists", "paude-internal"); err == nil {
		t.Errorf("paude stop --all left the network paude-internal %s", out)
	}
	if out, err := podmanCmd("container", "exists", "paude-proxy"); err == nil {
		t.Errorf("paude stop --all left the proxy %s", out)
	}
}
