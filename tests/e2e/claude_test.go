//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/tests/fakeapi"
)

// TestRealClaudeCode runs the real Claude Code, installed from npm by the
// default agent image exactly as users get it (config.ClaudeCodeVersion),
// through the built paude with the default configuration: `claude -p`
// gets its answer from tests/fakeapi, under the providers' real host
// names, through the session's proxy with the default allowlist, once
// with Vertex AI (application-default credentials in ~/.config/gcloud)
// and once with an Anthropic API key. The workspace's only setting is
// NODE_EXTRA_CA_CERTS, naming the fake's CA. The fake's log shows the
// calls the answer took, with the credential each expects.
func TestRealClaudeCode(t *testing.T) {
	tests := []struct {
		provider fakeapi.Provider
		env      []string
		home     map[string][]byte
		// calls must each appear in the fake's log, authenticated.
		calls []fakeapi.Call
	}{
		{fakeapi.Vertex,
			[]string{"CLAUDE_CODE_USE_VERTEX=1", "CLOUD_ML_REGION=us-east5", "ANTHROPIC_VERTEX_PROJECT_ID=" + fakeapi.DefaultProject},
			map[string][]byte{".config/gcloud/application_default_credentials.json": fakeapi.ADCFile(fakeapi.DefaultRefreshToken)},
			[]fakeapi.Call{fakeapi.CallToken, fakeapi.CallVertex}},
		{fakeapi.Anthropic,
			[]string{"ANTHROPIC_API_KEY=" + fakeapi.DefaultAPIKey}, nil,
			[]fakeapi.Call{fakeapi.CallMessages}},
	}
	for _, tt := range tests {
		t.Run(string(tt.provider), func(t *testing.T) {
			u := newPaudeUser(t, tt.env...)
			for rel, data := range tt.home {
				mkFile(t, filepath.Join(u.home, rel), string(data))
			}
			ws := fakeCAWorkspace(t)
			chownTree(t, ws, 1000, 1000)
			cfg := loadConfig(t, ws)
			if cfg.Agent.Command != "claude" || !strings.Contains(cfg.Agent.Install, "@anthropic-ai/claude-code@"+config.ClaudeCodeVersion) {
				t.Fatalf("the default agent is %q, installed by %q", cfg.Agent.Command, cfg.Agent.Install)
			}
			recipe, err := image.WorkspaceRecipe(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, seen := podmanCmd("image", "exists", recipe.Tag)
			logsBefore, _ := podmanCmd("logs", fakeHost)
			started := time.Now()
			id := u.start(ws, "--", "-p", "Say hello.")
			if seen != nil {
				t.Logf("built %s with Claude Code %s from npm and started in %s", recipe.Tag, config.ClaudeCodeVersion, time.Since(started).Round(time.Second))
			}
			// `claude -p` prints the answer and exits; the entrypoint then
			// prints the pane's last screen to the container's output.
			var logs string
			waitFor(t, "claude -p to finish", 3*time.Minute, func() bool {
				state, _ := podmanCmd("inspect", "--format", "{{.State.Status}}", "paude-"+id)
				logs, _ = podmanCmd("logs", "paude-"+id)
				return strings.TrimSpace(state) == "exited"
			})
			if !strings.Contains(logs, fakeapi.DefaultReply) {
				t.Fatalf("claude -p did not print the fake model's answer; the container's output:\n%s", logs)
			}
			if !strings.Contains(logs, "agent exited with code 0") {
				t.Errorf("claude -p did not exit 0:\n%s", logs)
			}
			all, _ := podmanCmd("logs", fakeHost)
			reqs, err := fakeapi.ReadLog(strings.NewReader(strings.TrimPrefix(all, logsBefore)))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.calls {
				found := false
				for _, r := range reqs {
					found = found || r.Call == want && r.Auth && r.Status == 200
				}
				if !found {
					t.Errorf("the fake saw no authenticated %s call answered 200: %+v", want, reqs)
				}
			}
			t.Logf("the fake's log: %+v", reqs)
		})
	}
}

// fakeCAWorkspace is a new workspace whose paude.json names the fake
// model endpoints' CA (a copy in the workspace) as NODE_EXTRA_CA_CERTS,
// so Claude Code trusts them under the providers' real names.
func fakeCAWorkspace(t *testing.T) string {
	t.Helper()
	ws := newWorkspace(t, nil)
	ca, err := os.ReadFile(suite.caPEM)
	if err != nil {
		t.Fatal(err)
	}
	mkFile(t, filepath.Join(ws, "fake-ca.pem"), string(ca))
	mkFile(t, filepath.Join(ws, "paude.json"), mustJSON(t, map[string]any{
		"env": map[string]string{"NODE_EXTRA_CA_CERTS": filepath.Join(ws, "fake-ca.pem")}}))
	return ws
}
