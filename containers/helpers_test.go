package containers

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireTool returns the path of a program the test needs, skipping the
// test when it is missing, or failing it under PAUDE_REQUIRE_ALL=1.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" is not installed")
	}
	return p
}

func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
		t.Fatalf("prerequisite missing and PAUDE_REQUIRE_ALL=1: %s", why)
	}
	t.Skip("prerequisite missing: " + why)
}

// fakeAgent records how it was started into $FAKE_CTL, prints a few lines,
// and exits with the code written to $FAKE_CTL/exit ("kill9": SIGKILL
// itself). With FAKE_CHATTY=1 it prints a line every 0.2s meanwhile.
const fakeAgent = `#!/bin/bash
echo $$ >"$FAKE_CTL/pid"
pwd >"$FAKE_CTL/cwd"
echo "$HOME" >"$FAKE_CTL/home"
git status --short >"$FAKE_CTL/git" 2>&1 || echo "git failed" >>"$FAKE_CTL/git"
env -0 >"$FAKE_CTL/env"
# Last, so that a test seeing "args" sees everything above.
printf '%s\0' "$@" >"$FAKE_CTL/args.tmp" && mv "$FAKE_CTL/args.tmp" "$FAKE_CTL/args"
echo "fake agent ready"
while [ ! -e "$FAKE_CTL/exit" ]; do
	if [ -n "${FAKE_CHATTY:-}" ]; then echo tick; sleep 0.2; else sleep 0.1; fi
done
code=$(cat "$FAKE_CTL/exit")
echo "fake agent exiting with $code"
if [ "$code" = kill9 ]; then kill -9 $$; fi
exit "$code"
`

// harness runs containers/paude/entrypoint.sh against a private tmux
// server, with every PAUDE_* directory in a temporary directory.
type harness struct {
	t                       *testing.T
	root, ws, run, ctl, tmp string
	env                     map[string]string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	requireTool(t, "tmux")
	root := t.TempDir()
	h := &harness{
		t:    t,
		root: root,
		ws:   filepath.Join(root, "ws"),
		run:  filepath.Join(root, "run"),
		ctl:  filepath.Join(root, "ctl"),
		tmp:  filepath.Join(root, "tmux"),
	}
	for _, d := range []string{h.ws, h.ctl, h.tmp, filepath.Join(root, "home")} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	agent := filepath.Join(root, "fake-agent")
	if err := os.WriteFile(agent, []byte(fakeAgent), 0o755); err != nil {
		t.Fatal(err)
	}
	h.env = map[string]string{
		"PATH":            os.Getenv("PATH"),
		"HOME":            filepath.Join(root, "home"),
		"TMUX_TMPDIR":     h.tmp,
		"FAKE_CTL":        h.ctl,
		"PAUDE_AGENT_CMD": agent,
		"PAUDE_WORKSPACE": h.ws,
		"PAUDE_RUN_DIR":   h.run,
	}
	t.Cleanup(func() {
		// Our own tmux server, on our own socket directory.
		cmd := exec.Command("tmux", "kill-server")
		cmd.Env = h.environ()
		_ = cmd.Run()
	})
	return h
}

// encodeArgs is the PAUDE_AGENT_ARGS encoding: base64 of the arguments,
// each followed by a NUL.
func encodeArgs(args ...string) string {
	var b bytes.Buffer
	for _, a := range args {
		b.WriteString(a)
		b.WriteByte(0)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func (h *harness) environ() []string {
	var out []string
	for k, v := range h.env {
		out = append(out, k+"="+v)
	}
	return out
}

// command returns the entrypoint run with args in the harness environment.
func (h *harness) command(args ...string) *exec.Cmd {
	cmd := exec.Command("bash", append([]string{"paude/entrypoint.sh"}, args...)...)
	cmd.Env = h.environ()
	return cmd
}

// running is a started entrypoint process.
type running struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
}

// start starts the entrypoint; the test ends it by PID if it still runs.
func (h *harness) start(cmd *exec.Cmd) *running {
	h.t.Helper()
	r := &running{cmd: cmd, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = &r.stdout
	}
	cmd.Stderr = &r.stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			r.code = exit.ExitCode()
		default:
			r.code = -1
		}
		close(r.done)
	}()
	h.t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// wait waits for the process to exit and returns its exit code.
func (h *harness) wait(r *running) int {
	h.t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(h.patience()):
		h.t.Fatalf("entrypoint still running; stderr:\n%s", r.stderr.String())
		return -1
	}
}

// patience bounds every wait, so a broken entrypoint fails the test instead
// of hanging it; it is not a performance threshold.
func (h *harness) patience() time.Duration {
	limit := 30 * time.Second
	if d, ok := h.t.Deadline(); ok && time.Until(d)/2 < limit {
		return time.Until(d) / 2
	}
	return limit
}

// waitFor polls cond until it holds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(h.patience())
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tmux runs a tmux command against the harness's server.
func (h *harness) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", args...)
	cmd.Env = h.environ()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (h *harness) sessionExists() bool {
	_, err := h.tmux("has-session", "-t", "=claude")
	return err == nil
}

// status runs `paude-entrypoint status`.
func (h *harness) status() string {
	h.t.Helper()
	out, err := h.command("status").Output()
	if err != nil {
		h.t.Fatalf("status: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func (h *harness) exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

func (h *harness) read(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

// agentStarted waits until the fake agent has recorded its arguments.
func (h *harness) agentStarted() {
	h.t.Helper()
	h.waitFor("the fake agent to start", func() bool { return h.exists(filepath.Join(h.ctl, "args")) })
}

// agentArgs returns the arguments the fake agent got.
func (h *harness) agentArgs() []string {
	s := strings.TrimSuffix(h.read(filepath.Join(h.ctl, "args")), "\x00")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// finishAgent tells the fake agent to exit with code (or "kill9").
func (h *harness) finishAgent(code string) {
	h.t.Helper()
	tmp := filepath.Join(h.ctl, "exit.tmp")
	if err := os.WriteFile(tmp, []byte(code), 0o644); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(h.ctl, "exit")); err != nil {
		h.t.Fatal(err)
	}
}

// agentGone waits until the fake agent's process no longer exists.
func (h *harness) agentGone() {
	h.t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(h.read(filepath.Join(h.ctl, "pid"))))
	if err != nil {
		h.t.Fatalf("no fake agent pid: %v", err)
	}
	h.waitFor("the fake agent to end", func() bool {
		return syscall.Kill(pid, 0) != nil
	})
}
