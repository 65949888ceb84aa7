//go:build e2e

package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

// claudeUI matches what Claude Code draws on its first screen (its
// welcome or its first-run choices), not anything the entrypoint prints.
var claudeUI = regexp.MustCompile(`(?i)welcome to claude code|claude code v?[0-9]|choose the text style|select login method`)

// TestRealClaudeCode builds the default agent image, which installs Claude
// Code from npm exactly as users get it, starts a session with the
// default configuration and waits for Claude Code's own UI in the tmux
// pane. No API call needs to succeed: the proxy allows only the default
// allowlist, and its resolver (the suite's) answers no real name.
func TestRealClaudeCode(t *testing.T) {
	need(t)
	ws := newWorkspace(t, nil)
	cfg := loadConfig(t, ws)
	if cfg.Agent.Command != "claude" {
		t.Fatalf("the default agent is %q, not claude", cfg.Agent.Command)
	}
	plan, err := image.WorkspaceRecipe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	progress := &syncBuffer{}
	b := testBackend(t, progress, nil)
	started := time.Now()
	s := startSession(t, b, progress, backend.SessionSpec{Config: cfg, Workspace: ws})
	if strings.Contains(progress.String(), "Building "+plan.Tag) {
		t.Logf("built %s with Claude Code from npm in %s", plan.Tag, time.Since(started).Round(time.Second))
	} else {
		t.Logf("reused %s, built with Claude Code from npm by an earlier run", plan.Tag)
	}
	version := mustInAgent(t, s.ID, "claude --version")
	if !strings.Contains(version, "Claude Code") {
		t.Fatalf("claude --version in the image: %q", version)
	}
	t.Logf("claude --version: %s", strings.TrimSpace(version))

	deadline := time.Now().Add(90 * time.Second)
	for {
		sc := screen(t, s.ID)
		if claudeUI.MatchString(sc) {
			t.Logf("Claude Code's screen in the session:\n%s", strings.TrimRight(sc, "\n "))
			return
		}
		// Without Vertex AI settings Claude Code checks api.anthropic.com,
		// which the default allowlist refuses, and exits after drawing its
		// welcome: the entrypoint then prints the pane's last screen to
		// the container's output, which is where to look for it.
		logs, _ := podmanCmd("logs", "paude-"+s.ID)
		if claudeUI.MatchString(logs) {
			t.Logf("Claude Code's last screen, printed by the entrypoint when it exited:\n%s", strings.TrimRight(logs, "\n "))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for Claude Code's UI in the tmux pane; the screen:\n%s\ncontainer output:\n%s", sc, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
