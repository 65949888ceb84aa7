//go:build e2e

package fakeapi

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestClaudeInteractive runs Claude Code as paude does, interactively in
// tmux, behind the narrow allowlist with QuietEnv, types a prompt and
// waits for the fake's answer on the screen. Interactive Claude Code
// fetches more than print mode (release notes, model catalog, plugin
// marketplace, update check; TestClaudeTrafficSurvey and NOTES.md list
// them): this shows QuietEnv turns all of it off, so the allowlist needs
// no more names for a real session than for `claude -p`.
func TestClaudeInteractive(t *testing.T) {
	requireSandbox(t)
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		failOrSkip(t, "tmux is not installed: apt-get install tmux")
	}
	for _, r := range routes() {
		if r.name == "vertex global" {
			continue // the same path as regional, host aside
		}
		t.Run(r.name, func(t *testing.T) {
			s := runInteractive(t, tmux, r, QuietEnv()...)
			if refused := s.refused(); len(refused) > 0 {
				t.Errorf("with %v interactive Claude Code asked the proxy for names outside the allowlist: %v", QuietEnv(), refused)
			}
			if names := s.resolver.Names(); len(names) > 0 {
				t.Errorf("interactive Claude Code looked names up itself: %v", names)
			}
		})
	}
	// The control: the same session without QuietEnv asks for names the
	// allowlist refuses, so the checks above can fail.
	t.Run("control without the quiet environment", func(t *testing.T) {
		s := runInteractive(t, tmux, routes()[0])
		if len(s.refused()) == 0 {
			t.Errorf("without %v interactive Claude Code asked for nothing outside the allowlist; NOTES.md says it does:\n%s", QuietEnv(), s.describe())
		}
		t.Logf("without %v: the proxy refused %v, the resolver was asked %v", QuietEnv(), s.refused(), s.resolver.Names())
	})
}

// runInteractive starts Claude Code in tmux for route r behind the
// route's narrow allowlist, types a prompt, waits for the fake's answer,
// lets the session run on briefly and ends it; it returns the sandbox to
// inspect.
func runInteractive(t *testing.T, tmux string, r route, env ...string) *sandbox {
	t.Helper()
	s := r.sandbox(t, Hosts(r.provider, r.region), env...)
	work := t.TempDir()
	key := ""
	if r.provider == Anthropic && r.tokenCall == "" {
		key = s.fake.APIKey
	}
	s.writeHomeFile(t, ".claude.json", OnboardedState(work, key))
	term := newTmux(t, tmux, s.env)
	term.run(t, "new-session", "-d", "-x", "150", "-y", "45", "-c", work, claudeBin)

	term.waitFor(t, "the prompt", func(screen string) bool { return strings.Contains(screen, "❯") })
	term.run(t, "send-keys", "-l", "say hi")
	term.run(t, "send-keys", "Enter")
	screen := term.waitFor(t, "the fake's answer", func(screen string) bool { return strings.Contains(screen, DefaultReply) })
	t.Logf("Claude Code's screen:\n%s", strings.TrimRight(screen, "\n "))
	if !slices.ContainsFunc(s.fake.Requests(), func(q Request) bool {
		return q.Call == r.modelCall && q.Host == r.modelHost && q.Auth && q.Stream
	}) {
		t.Errorf("the answer on screen came without a %s call on %s:\n%s", r.modelCall, r.modelHost, s.describe())
	}
	// Background fetches go on after the first turn; give them a moment
	// before counting.
	time.Sleep(3 * time.Second)
	term.stop(t)
	return s
}

// tmuxServer is a tmux server of the test's own, on a socket in a temp
// directory, so it never meets the machine's other tmux sessions.
type tmuxServer struct {
	bin, socket string
	env         []string
}

func newTmux(t *testing.T, bin string, env []string) *tmuxServer {
	t.Helper()
	tm := &tmuxServer{bin: bin, socket: filepath.Join(t.TempDir(), "tmux.sock"), env: env}
	t.Cleanup(func() { _, _ = tm.output("kill-server") })
	return tm
}

func (tm *tmuxServer) output(args ...string) (string, error) {
	cmd := exec.Command(tm.bin, append([]string{"-S", tm.socket}, args...)...)
	cmd.Env = tm.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (tm *tmuxServer) run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := tm.output(args...); err != nil {
		t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
}

// stop ends the server and waits for the program in its pane to exit,
// so nothing writes into the test's temp directories while they are
// removed.
func (tm *tmuxServer) stop(t *testing.T) {
	t.Helper()
	pid, err := tm.output("display-message", "-p", "#{pane_pid}")
	if err != nil {
		t.Fatalf("tmux display-message: %v: %s", err, pid)
	}
	tm.run(t, "kill-server")
	proc := "/proc/" + strings.TrimSpace(pid)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(proc); os.IsNotExist(err) {
			return
		}
	}
	t.Errorf("Claude Code (pid %s) still runs 15 s after its tmux server ended", strings.TrimSpace(pid))
}

// waitFor polls the pane until ok accepts it, for up to a minute, and
// returns the screen it accepted.
func (tm *tmuxServer) waitFor(t *testing.T, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		screen, err := tm.output("capture-pane", "-p")
		if err == nil && ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s on Claude Code's screen after a minute (%v):\n%s", what, err, screen)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// failOrSkip stops a test whose prerequisite is missing: a failure under
// PAUDE_REQUIRE_ALL=1, a skip otherwise.
func failOrSkip(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}
