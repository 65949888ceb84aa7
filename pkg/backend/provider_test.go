package backend

import (
	"reflect"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/config"
)

func TestAllowedDomains(t *testing.T) {
	vertex := Provider{Kind: ProviderVertex, Region: "us-east5"}
	tests := []struct {
		name    string
		network config.Network
		p       Provider
		want    []string
		wantErr string
	}{
		{"anthropic by default", config.Network{}, Provider{Kind: ProviderAnthropic},
			[]string{"api.anthropic.com", "platform.claude.com"}, ""},
		{"vertex: the region's host, the global one and the token endpoint", config.Network{}, vertex,
			[]string{"aiplatform.googleapis.com", "oauth2.googleapis.com", "us-east5-aiplatform.googleapis.com"}, ""},
		{"vertex global", config.Network{}, Provider{Kind: ProviderVertex, Region: "global"},
			[]string{"aiplatform.googleapis.com", "oauth2.googleapis.com"}, ""},
		{"bedrock", config.Network{}, Provider{Kind: ProviderBedrock, Region: "eu-west-1"},
			[]string{"bedrock-runtime.eu-west-1.amazonaws.com", "bedrock.eu-west-1.amazonaws.com"}, ""},
		{"a configured list replaces them", config.Network{AllowedDomains: []string{"example.com"}, AllowedDomainsSet: true}, vertex,
			[]string{"example.com"}, ""},
		{"an empty configured list allows nothing", config.Network{AllowedDomains: []string{}, AllowedDomainsSet: true}, vertex,
			[]string{}, ""},
		{"extendDefaults adds the provider's hosts a suffix does not cover", config.Network{AllowedDomains: []string{".googleapis.com", "pypi.org"}, AllowedDomainsSet: true, ExtendDefaults: true}, vertex,
			[]string{".googleapis.com", "pypi.org"}, ""},
		{"extendDefaults after the configured entries", config.Network{AllowedDomains: []string{"pypi.org"}, AllowedDomainsSet: true, ExtendDefaults: true}, Provider{Kind: ProviderAnthropic},
			[]string{"pypi.org", "api.anthropic.com", "platform.claude.com"}, ""},
		{"vertex without a region", config.Network{}, Provider{Kind: ProviderVertex},
			nil, "CLOUD_ML_REGION is not set"},
		{"a region that is not a name", config.Network{}, Provider{Kind: ProviderBedrock, Region: "eu-west-1.evil.com http_access allow all"},
			nil, "is not a region name"},
		{"a configured list needs no region", config.Network{AllowedDomains: []string{"example.com"}, AllowedDomainsSet: true}, Provider{Kind: ProviderVertex},
			[]string{"example.com"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AllowedDomains(tt.network, tt.p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckProvider(t *testing.T) {
	adc := HomeFile{Kind: CredentialGcloud, Rel: gcloudADC}
	login := HomeFile{Kind: CredentialClaude, Rel: claudeLogin}
	tests := []struct {
		name    string
		agent   string
		host    map[string]string
		files   []HomeFile
		wantErr string
	}{
		// Claude Code logs in inside the session: a note, not an error.
		{"nothing configured", "", nil, nil, ""},
		{"an API key", "", map[string]string{"ANTHROPIC_API_KEY": "k"}, nil, ""},
		{"a long-lived token", "", map[string]string{"CLAUDE_CODE_OAUTH_TOKEN": "t"}, nil, ""},
		{"a stored login", "", nil, []HomeFile{login}, ""},
		{"another agent is not checked", "aider", nil, nil, ""},
		{"vertex", "", map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5", "GOOGLE_CLOUD_PROJECT": "p"}, []HomeFile{adc}, ""},
		{"vertex without ADC", "", map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "p"}, nil,
			"run 'gcloud auth application-default login'"},
		{"vertex without a project", "", map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5"}, []HomeFile{adc},
			"ANTHROPIC_VERTEX_PROJECT_ID is not set"},
		{"vertex without a region", "", map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "p"}, []HomeFile{adc},
			"CLOUD_ML_REGION is not set"},
		{"bedrock", "", map[string]string{"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1", "AWS_BEARER_TOKEN_BEDROCK": "b"}, nil, ""},
		{"bedrock without credentials", "", map[string]string{"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a"}, nil,
			"no AWS credentials in the environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults("/w")
			if tt.agent != "" {
				cfg.Agent = config.Agent{Name: tt.agent, Command: tt.agent}
			}
			env := NewAgentEnv(cfg, func(k string) string { return tt.host[k] }, map[string]string{})
			note, err := CheckProvider(cfg, env, tt.files)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if wantNote := tt.name == "nothing configured"; wantNote != strings.Contains(note, "Claude Code will ask you to log in inside the session") {
					t.Errorf("note = %q", note)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
