package termfilter

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pipeEnv makes the test binary a filter between its stdin and stdout
// ("filter") or a plain copy ("copy"), for TestRealTerminal's pipeline.
const pipeEnv = "PAUDE_TERMFILTER_PIPE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(pipeEnv); mode != "" {
		os.Exit(pipe(mode))
	}
	os.Exit(m.Run())
}

// pipe copies stdin to stdout, through the filter when mode is "filter".
func pipe(mode string) int {
	var out io.Writer = os.Stdout
	if mode == "filter" {
		out = NewWriter(os.Stdout, Options{})
	}
	if _, err := io.Copy(out, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestRealTerminal plays the attack on real tmux. The agent's tmux server
// runs testdata/agent.sh, which turns on passthrough and sends a
// clipboard write and a title through it. The user's "terminal" is a
// second tmux server with set-clipboard on, whose pane runs the attach:
// `tmux attach` of the agent's server on a pseudo-terminal (util-linux
// script), its output piped through the filter, as paude's attach streams
// `podman exec -it` or the pod's exec. Without the filter (the control)
// the user's clipboard (a tmux paste buffer) and pane title change; with
// it they do not. Either way, typing and resizing still work.
func TestRealTerminal(t *testing.T) {
	for _, tc := range []struct {
		mode      string
		wantTaken bool
	}{
		{"copy", true},
		{"filter", false},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			h := newTmuxHarness(t, tc.mode)
			h.attackAndWait()

			buffers := h.tmux("user", "list-buffers", "-F", "#{buffer_sample}")
			title := strings.TrimSpace(h.tmux("user", "display-message", "-p", "-t", "user", "#{pane_title}"))
			t.Logf("%s: user's pane title %q, paste buffers %q", tc.mode, title, buffers)
			gotClipboard := strings.Contains(buffers, h.clipboard)
			gotTitle := title == h.title
			if gotClipboard != tc.wantTaken || gotTitle != tc.wantTaken {
				t.Fatalf("%s: clipboard written %v, title set %v (title %q, buffers %q); want both %v",
					tc.mode, gotClipboard, gotTitle, title, buffers, tc.wantTaken)
			}
			h.checkInputAndResize()
		})
	}
}

// tmuxHarness is the two tmux servers of TestRealTerminal.
type tmuxHarness struct {
	t                *testing.T
	dir, ctl         string
	clipboard, title string
}

func newTmuxHarness(t *testing.T, mode string) *tmuxHarness {
	t.Helper()
	for _, tool := range []string{"tmux", "script", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, tool+" is not installed")
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := &tmuxHarness{
		t: t, dir: dir, ctl: filepath.Join(dir, "ctl"),
		clipboard: "paude-clipboard-" + mode, title: "paude-title-" + mode,
	}
	if err := os.Mkdir(h.ctl, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, server := range []string{"user", "agent"} {
			kill := exec.Command("tmux", "-L", server, "kill-server")
			kill.Env = h.tmuxEnv()
			out, err := kill.CombinedOutput()
			if err != nil && !strings.Contains(string(out), "no server running") && !strings.Contains(string(out), "error connecting") {
				t.Errorf("failed to stop tmux server %s: %v: %s", server, err, out)
			}
		}
	})
	h.tmux("agent", "-f", filepath.Join(testdata, "agent.conf"), "new-session", "-d", "-s", "agent", "-x", "80", "-y", "24",
		fmt.Sprintf("PAUDE_TEST_CLIPBOARD=%s PAUDE_TEST_TITLE=%s bash %s %s",
			h.clipboard, h.title, filepath.Join(testdata, "agent.sh"), h.ctl))
	attach := fmt.Sprintf("env -u TMUX TMUX_TMPDIR=%s script -qfec 'tmux -L agent attach -t agent' /dev/null | %s=%s %s",
		dir, pipeEnv, mode, self)
	h.tmux("user", "-f", filepath.Join(testdata, "user.conf"), "new-session", "-d", "-s", "user", "-x", "100", "-y", "30", attach)
	h.waitFor("the attach to reach the agent's server", func() bool {
		return strings.TrimSpace(h.tmux("agent", "list-clients", "-t", "agent")) != ""
	})
	return h
}

// attackAndWait lets the agent act and waits until its marker, printed
// after the attack, shows in the user's terminal.
func (h *tmuxHarness) attackAndWait() {
	h.t.Helper()
	if err := os.WriteFile(filepath.Join(h.ctl, "go"), nil, 0o600); err != nil {
		h.t.Fatal(err)
	}
	h.waitFor("the agent's marker on the user's screen", func() bool {
		return strings.Contains(h.tmux("user", "capture-pane", "-p", "-t", "user"), "agent-done")
	})
}

// checkInputAndResize shows that the attach still works through the
// filter: a resize of the user's terminal reaches the agent's tmux, and
// what the user types reaches the agent.
func (h *tmuxHarness) checkInputAndResize() {
	h.t.Helper()
	h.tmux("user", "resize-window", "-t", "user", "-x", "90", "-y", "20")
	h.waitFor("the resize to reach the agent's tmux", func() bool {
		return strings.TrimSpace(h.tmux("agent", "list-clients", "-F", "#{client_width}x#{client_height}")) == "90x20"
	})
	h.tmux("user", "send-keys", "-t", "user", "-l", "typed by the user")
	h.tmux("user", "send-keys", "-t", "user", "Enter")
	typed := filepath.Join(h.ctl, "typed")
	h.waitFor("the typed line to reach the agent", func() bool {
		data, err := os.ReadFile(typed)
		return err == nil && string(data) == "typed by the user\n"
	})
}

// tmux runs a tmux command against one of the harness's servers and
// returns its output; a failure ends the test.
func (h *tmuxHarness) tmux(server string, args ...string) string {
	h.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-L", server}, args...)...)
	cmd.Env = h.tmuxEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "no buffers") {
			return ""
		}
		h.t.Fatalf("tmux -L %s %s: %v\n%s", server, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tmuxEnv keeps the servers' sockets in the test's directory and out of
// any tmux the test runs in.
func (h *tmuxHarness) tmuxEnv() []string {
	env := []string{"TMUX_TMPDIR=" + h.dir, "TERM=screen"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMUX") && !strings.HasPrefix(kv, "TERM=") {
			env = append(env, kv)
		}
	}
	return env
}

// waitFor polls cond for up to 20 s.
func (h *tmuxHarness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s; user's screen:\n%s", what, h.tmux("user", "capture-pane", "-p", "-t", "user"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// missing skips the test for a missing prerequisite, or fails it under
// PAUDE_REQUIRE_ALL=1.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
		t.Fatalf("prerequisite missing and PAUDE_REQUIRE_ALL=1: %s", why)
	}
	t.Skip("prerequisite missing: " + why)
}
