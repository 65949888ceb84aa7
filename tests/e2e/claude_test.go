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
	plan, err := image.WorkspacePlan(cfg)
	if err != nil {
		t.Fatal(err)
	}
	progress := &syncBuffer{}
	b := testBackend(t, progress, nil)
	started := time.Now()
	s := startSession(t, b, progress, backend.StartOptions{Config: cfg, Workspace: ws})
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

	var sc string
	waitFor(t, "Claude Code's UI in the tmux pane", 90*time.Second, func() bool {
		sc = screen(t, s.ID)
		return claudeUI.MatchString(sc)
	})
	t.Logf("Claude Code's screen in the session:\n%s", strings.TrimRight(sc, "\n "))
}
