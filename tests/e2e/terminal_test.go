//go:build e2e

package e2e

import (
	"encoding/base64"
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
	// output records every byte the pane's programs wrote, for what a
	// full-screen program drew over.
	output string
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
	h.output = filepath.Join(t.TempDir(), "output")
	h.tmux("pipe-pane", "-t", "term:", "cat >> "+h.output)
	return h
}

// waitOutput waits until what the pane's programs wrote matches re.
func (h *hostTerminal) waitOutput(re string, timeout time.Duration) {
	h.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(h.output)
		if rx.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %s waiting for /%s/ in the terminal's output", timeout, re)
		}
		time.Sleep(200 * time.Millisecond)
	}
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
	u := newPaudeUser(t, "PS1=host$ ",
		// bash writes no history into HOME as the test ends.
		"HISTFILE=")
	ws := newWorkspace(t, fakeAgentConfig(nil))
	u.must(ws, "trust", "--yes")
	env := u.env
	paude := func(args ...string) string {
		t.Helper()
		return u.must(ws, args...)
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
	// The output is filtered, the terminal still paude's: the window's
	// size reaches the agent's pane (less the agent's tmux status line),
	// and so does a resize.
	agentSize := func() string {
		var h, w int
		if _, err := fmt.Sscan(term.tmux("display-message", "-p", "-t", "term:", "#{pane_height} #{pane_width}"), &h, &w); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf(`(?m)^%d %d\s*$`, h-1, w)
	}
	term.typeLine("stty size")
	term.waitFor(agentSize(), 10*time.Second)
	term.tmux("resize-window", "-t", "term:", "-x", "120", "-y", "40")
	// The resize travels as a signal to podman, then to the session:
	// ask again until it has arrived.
	resized := regexp.MustCompile(agentSize())
	deadline := time.Now().Add(20 * time.Second)
	for term.typeLine("clear; stty size"); !resized.MatchString(term.screen()); term.typeLine("clear; stty size") {
		if time.Now().After(deadline) {
			t.Fatalf("the resize did not reach the agent:\n%s", term.screen())
		}
		time.Sleep(time.Second)
	}
	term.typeLine("clear; echo state-$((6*7))-kept")
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
	term.waitFor(`state-42-kept`, 20*time.Second)
	term.keys("C-b", "d")
	term.waitFor(`PAUDE-EXIT=0`, 20*time.Second)
	// Said before the attach took the screen.
	term.waitOutput(`Reattaching to session `+id, 5*time.Second)

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

	// paude stop --all leaves no paude container or network.
	paude("stop", "--all")
	if names := containersWithLabel(t, "app=paude"); len(names) != 0 {
		t.Errorf("paude stop --all left containers %q", names)
	}
	if out, _ := podmanCmd("network", "ls", "-q", "--filter", "label=app=paude"); strings.TrimSpace(out) != "" {
		t.Errorf("paude stop --all left networks %s", out)
	}
}

// terminalAttack is what a hostile agent sends to the terminal it is
// attached from: it turns on its tmux's passthrough and clipboard and
// titles, then writes the clipboard and the title three ways (wrapped
// for passthrough, bare, and through tmux's own set-clipboard), then a
// marker line.
func terminalAttack(clip, title, done string) string {
	b64 := base64.StdEncoding.EncodeToString([]byte(clip))
	return "tmux set -g allow-passthrough on; tmux set -g set-clipboard on; tmux set -g set-titles on; " +
		"tmux set -g set-titles-string " + title + "; " +
		`printf '\ePtmux;\e\e]52;c;` + b64 + `\a\e\\'; printf '\ePtmux;\e\e]2;` + title + `\a\e\\'; ` +
		`printf '\e]52;c;` + b64 + `\a'; printf '\e]0;` + title + `\a'; echo ` + done
}

// TestTerminalFilter attacks the user's terminal from a real session: a
// host tmux with set-clipboard on plays the user's terminal, attached
// with the built paude. Neither its clipboard (a paste buffer) nor its
// title changes. The control attaches a second such terminal with a raw
// podman exec (what paude runs, unfiltered): there the same attack
// writes both. A second session's agent exits while a background process
// keeps rewriting its last screen, which the entrypoint prints through
// the attach: filtered too, and its control gets through.
func TestTerminalFilter(t *testing.T) {
	u := newPaudeUser(t, "PS1=host$ ", "HISTFILE=")
	ws := newWorkspace(t, fakeAgentConfig(nil))
	id := u.start(ws)
	clip, title := fmt.Sprintf("paude-e2e-clip-%d", rand.Uint32()), fmt.Sprintf("paude-e2e-title-%d", rand.Uint32())
	userTerminal := func() *hostTerminal {
		term := newHostTerminal(t, ws, u.env)
		term.tmux("set-option", "-g", "set-clipboard", "on")
		term.tmux("set-option", "-g", "allow-rename", "on")
		term.waitFor(`(?m)^host\$`, 10*time.Second)
		return term
	}
	taken := func(term *hostTerminal) (clipboard, titled bool) {
		buffers := term.tmux("list-buffers", "-F", "#{buffer_sample}")
		paneTitle := term.tmux("display-message", "-p", "-t", "term:", "#{pane_title}")
		return strings.Contains(buffers, clip), strings.Contains(paneTitle, title)
	}
	attack := func(term *hostTerminal, done string) {
		typeInAgent(t, id, terminalAttack(clip, title, done))
		term.waitFor(`(?m)^`+done, 20*time.Second)
		time.Sleep(500 * time.Millisecond) // the terminal acts on what it got
	}

	filtered := userTerminal()
	filtered.typeLine("paude attach " + id)
	filtered.waitFor(`(?m)^fake-agent\$`, 30*time.Second)
	attack(filtered, "ATTACK-SENT-1")
	if c, ti := taken(filtered); c || ti {
		t.Errorf("through paude: clipboard written %v, title set %v", c, ti)
	}
	// The terminal still works: typing reaches the agent.
	filtered.typeLine("echo typed-$((7*6))")
	filtered.waitFor(`typed-42`, 10*time.Second)

	raw := userTerminal()
	raw.typeLine("podman exec -it -e TERM=xterm-256color paude-" + id + " /usr/local/bin/paude-entrypoint attach")
	raw.waitFor(`(?m)^fake-agent\$`, 30*time.Second)
	attack(raw, "ATTACK-SENT-2")
	if c, ti := taken(raw); !c || !ti {
		t.Errorf("control (raw podman exec): clipboard written %v, title set %v: the attack proves nothing", c, ti)
	}

	t.Run("the last screen the entrypoint prints", func(t *testing.T) {
		// The agent's last screen is a file the agent can write; a loop
		// outliving it rewrites it with a clipboard write.
		b64 := base64.StdEncoding.EncodeToString([]byte(clip))
		exitAttack := `setsid bash -c 'while :; do printf "\e]52;c;` + b64 + `\a\n" > /tmp/paude/s.$$; mv -f /tmp/paude/s.$$ /tmp/paude/agent.screen; done' </dev/null >/dev/null 2>&1 & sleep 1; exit 3`
		for _, viaPaude := range []bool{true, false} {
			sid := u.start(newWorkspace(t, fakeAgentConfig(nil)))
			term := userTerminal()
			cmd := "podman exec -it -e TERM=xterm-256color paude-" + sid + " /usr/local/bin/paude-entrypoint attach"
			if viaPaude {
				cmd = "paude attach " + sid
			}
			term.typeLine(cmd + "; echo ATTACH-EXIT=$?")
			term.waitFor(`(?m)^fake-agent\$`, 30*time.Second)
			term.typeLine(exitAttack)
			term.waitFor(`ATTACH-EXIT=3`, 30*time.Second)
			time.Sleep(500 * time.Millisecond)
			if c, _ := taken(term); c == viaPaude {
				t.Errorf("attached with %q: clipboard written %v", cmd, c)
			}
		}
	})
}
