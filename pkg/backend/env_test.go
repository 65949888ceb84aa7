package backend

import (
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/config"
)

func TestNewAgentEnvLayers(t *testing.T) {
	cfg := config.Defaults("/w")
	cfg.Env = map[string]string{
		"CLOUD_ML_REGION":  "europe-west1", // the configuration beats the host
		"FOO":              "bar",
		"HOME":             "/root",  // paude's own value wins
		"PAUDE_AGENT_ARGS": "--evil", // never from a project
	}
	host := map[string]string{"CLOUD_ML_REGION": "us-east5", "CLAUDE_CODE_USE_VERTEX": "1", "UNRELATED": "x"}
	own := EntrypointEnv("1-a", SessionSpec{Config: cfg, Yolo: true}, "/w", "/state")
	env := NewAgentEnv(cfg, func(k string) string { return host[k] }, own)
	wantPassed := map[string]string{"CLOUD_ML_REGION": "europe-west1", "CLAUDE_CODE_USE_VERTEX": "1", "FOO": "bar"}
	if !reflect.DeepEqual(env.Passed, wantPassed) {
		t.Errorf("passed = %v, want %v", env.Passed, wantPassed)
	}
	if env.From["CLAUDE_CODE_USE_VERTEX"] != "host variable CLAUDE_CODE_USE_VERTEX" || env.From["FOO"] != "configured variable FOO" {
		t.Errorf("from = %v", env.From)
	}
	wantOwn := map[string]string{
		"HOME": "/home/paude", "PAUDE_SESSION_ID": "1-a", "PAUDE_WORKSPACE": "/w", "PAUDE_STATE_DIR": "/state",
		"PAUDE_IDLE_TIMEOUT": "14400", "PAUDE_MAX_LIFETIME": "86400", "PAUDE_YOLO": "1",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
	}
	if !reflect.DeepEqual(env.Own, wantOwn) {
		t.Errorf("own = %v, want %v", env.Own, wantOwn)
	}
	AddProxyEnv(own)
	if own["HTTPS_PROXY"] != "http://paude-proxy:3128" || own["no_proxy"] != "localhost,127.0.0.1,::1" {
		t.Errorf("proxy env = %v", own)
	}
}

// TestNewAgentEnvProvider: only the selected provider's host variables
// reach the agent, a configured QuietEnv value replaces paude's, and
// GOOGLE_CLOUD_PROJECT stands in for the Vertex project Claude Code reads.
func TestNewAgentEnvProvider(t *testing.T) {
	everything := map[string]string{
		"ANTHROPIC_API_KEY": "sk-key", "CLAUDE_CODE_OAUTH_TOKEN": "tok",
		"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1",
		"CLOUD_ML_REGION": "us-east5", "GOOGLE_CLOUD_PROJECT": "proj",
	}
	with := func(extra map[string]string) map[string]string {
		m := maps.Clone(everything)
		maps.Copy(m, extra)
		return m
	}
	tests := []struct {
		name       string
		host, conf map[string]string
		kind       ProviderKind
		wantPassed map[string]string
	}{
		{"anthropic by default", everything, nil, ProviderAnthropic,
			map[string]string{"ANTHROPIC_API_KEY": "sk-key", "CLAUDE_CODE_OAUTH_TOKEN": "tok"}},
		{"vertex", with(map[string]string{"CLAUDE_CODE_USE_VERTEX": "1"}), nil, ProviderVertex,
			map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5", "GOOGLE_CLOUD_PROJECT": "proj", "ANTHROPIC_VERTEX_PROJECT_ID": "proj"}},
		{"vertex with its own project id", with(map[string]string{"CLAUDE_CODE_USE_VERTEX": "true", "ANTHROPIC_VERTEX_PROJECT_ID": "p2"}), nil, ProviderVertex,
			map[string]string{"CLAUDE_CODE_USE_VERTEX": "true", "CLOUD_ML_REGION": "us-east5", "GOOGLE_CLOUD_PROJECT": "proj", "ANTHROPIC_VERTEX_PROJECT_ID": "p2"}},
		{"bedrock wins over vertex", with(map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLAUDE_CODE_USE_BEDROCK": "1"}), nil, ProviderBedrock,
			map[string]string{"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "secret"}},
		{"the configuration selects the provider", everything, map[string]string{"CLAUDE_CODE_USE_VERTEX": "1"}, ProviderVertex,
			map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5", "GOOGLE_CLOUD_PROJECT": "proj", "ANTHROPIC_VERTEX_PROJECT_ID": "proj"}},
		{"a configured quiet variable wins", nil, map[string]string{"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "0"}, ProviderAnthropic,
			map[string]string{"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults("/w")
			cfg.Env = tt.conf
			env := NewAgentEnv(cfg, func(k string) string { return tt.host[k] }, map[string]string{})
			if env.Provider.Kind != tt.kind {
				t.Errorf("provider = %s, want %s", env.Provider.Kind, tt.kind)
			}
			if !reflect.DeepEqual(env.Passed, tt.wantPassed) {
				t.Errorf("passed = %v, want %v", env.Passed, tt.wantPassed)
			}
			_, configuredQuiet := tt.conf["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"]
			if _, inOwn := env.Own["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"]; inOwn == configuredQuiet {
				t.Errorf("own = %v: the quiet variable is paude's unless configured", env.Own)
			}
		})
	}
}

func TestSecondsRoundsUp(t *testing.T) {
	for d, want := range map[time.Duration]int64{
		0: 0, -time.Second: 0, time.Nanosecond: 1, 1500 * time.Millisecond: 2, time.Second: 1, 4 * time.Hour: 14400,
	} {
		if got := Seconds(d); got != want {
			t.Errorf("Seconds(%v) = %d, want %d", d, got, want)
		}
	}
}
