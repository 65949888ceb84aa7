//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/podman"
	"github.com/paude-dev/paude/pkg/config"
)

// fakeAgentInstall installs the suite's fake agent through the same
// "agent.install" setting users have: a shell that prints its arguments
// and a prompt, so tests can type into it and end it with an exit code.
const fakeAgentInstall = `set -eu
cat > /usr/local/bin/fake-agent <<'EOF'
#!/bin/bash
echo "FAKE AGENT READY uid=$(id -u) gid=$(id -g) args:$*"
if [ "${1:-}" = "--exit-with" ]; then exit "$2"; fi
export PS1='fake-agent$ '
exec bash --norc --noprofile -i
EOF
chmod 0755 /usr/local/bin/fake-agent
`

// fakeAgentConfig is a paude.json for the fake agent, allowing only
// *.allowed.test; extra keys are merged over it.
func fakeAgentConfig(extra map[string]any) map[string]any {
	c := map[string]any{
		"agent": map[string]any{
			"name": "fake-agent", "command": "fake-agent",
			"yoloArgs": []string{"--yolo-was-given"}, "install": fakeAgentInstall,
		},
		"network": map[string]any{"allowedDomains": []string{"." + allowedName}},
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// newWorkspace makes a project directory owned by uid 1000 (so the
// default agent user, its owner, can write it) holding paude.json.
func newWorkspace(t *testing.T, paudeJSON map[string]any) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "project")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	if paudeJSON != nil {
		b, err := json.MarshalIndent(paudeJSON, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, "paude.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chownTree(t, ws, 1000, 1000)
	return ws
}

func chownTree(t *testing.T, root string, uid, gid int) {
	t.Helper()
	err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func loadConfig(t *testing.T, ws string) *config.Config {
	t.Helper()
	cfg, err := config.Load(ws)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// syncBuffer is a Buffer safe for the backend's progress writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testBackend is a backend as the suite uses it: images only from local
// storage, and the proxy asking the suite's resolver, which answers the
// test names with the fake host and nothing else, so squid never asks a
// real resolver. The squid.conf is the one users get.
func testBackend(t *testing.T, progress *syncBuffer, mod func(*podman.Options)) *podman.Backend {
	t.Helper()
	opts := podman.Options{
		Progress:     progress,
		HomeDir:      t.TempDir(),
		StateDir:     suite.stateDir,
		PullPolicy:   "never",
		ProxyDNS:     []string{strings.TrimSuffix(proxyDNSAddr, ":53")},
		Getenv:       func(k string) string { return map[string]string{"TERM": "xterm-256color"}[k] },
		ReadyTimeout: readyTimeout,
		// git's transport for a fetch is the built paude's bridge: this
		// test binary has none.
		GitBridge: []string{suite.paudeBin, "__git-bridge"},
	}
	if mod != nil {
		mod(&opts)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("backend progress output:\n%s", tail(progress.String(), 60))
		}
	})
	return podman.New(opts)
}

// startSession starts a session and stops it when the test ends.
func startSession(t *testing.T, b *podman.Backend, progress *syncBuffer, opts backend.SessionSpec) *backend.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if opts.Progress == nil {
		opts.Progress = progress
	}
	s, err := b.StartSession(ctx, opts)
	if err != nil {
		t.Fatalf("StartSession: %v\nprogress:\n%s", err, tail(progress.String(), 40))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := b.StopSession(ctx, s.ID); err != nil {
			t.Errorf("StopSession(%s): %v", s.ID, err)
		}
	})
	return s
}

// inAgent runs a bash script in the session's agent container, as the
// agent's user, and returns its combined output.
func inAgent(t *testing.T, id, script string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "podman", "exec", "paude-"+id, "bash", "-c", script).CombinedOutput()
	return string(out), err
}

// agentEnviron is the environment of the process in the agent's tmux
// pane, read from /proc: what the agent really got, values from the
// copied env file included (a plain podman exec does not load them).
func agentEnviron(t *testing.T, id string) map[string]string {
	t.Helper()
	out := mustInAgent(t, id, `cat "/proc/$(tmux display-message -p -t =claude: '#{pane_pid}')/environ"`)
	env := map[string]string{}
	for _, kv := range strings.Split(out, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// mustInAgent is inAgent that fails the test on error.
func mustInAgent(t *testing.T, id, script string) string {
	t.Helper()
	out, err := inAgent(t, id, script)
	if err != nil {
		t.Fatalf("in agent: %s: %v\n%s", script, err, out)
	}
	return out
}

// screen is the agent's current tmux screen.
func screen(t *testing.T, id string) string {
	t.Helper()
	out, _ := podmanCmd("exec", "paude-"+id, "tmux", "capture-pane", "-p", "-t", "=claude:")
	return out
}

// waitScreen waits until the agent's screen shows want, and shows the
// screen and the container's output when it does not.
func waitScreen(t *testing.T, id, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sc := screen(t, id)
		if strings.Contains(sc, want) {
			return
		}
		if time.Now().After(deadline) {
			logs, _ := podmanCmd("logs", "paude-"+id)
			t.Fatalf("timed out after %s waiting for %q on the agent's screen:\n%s\ncontainer output:\n%s", timeout, want, sc, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// containersWithLabel lists container names carrying a label.
func containersWithLabel(t *testing.T, label string) []string {
	t.Helper()
	out, err := podmanCmd("ps", "-a", "--filter", "label="+label, "--format", "{{.Names}}")
	if err != nil {
		t.Fatalf("podman ps: %v: %s", err, out)
	}
	return strings.Fields(out)
}
