package fakeapi

import "strings"

// Host names Claude Code calls, as measured (NOTES.md).
const (
	// AnthropicAPIHost serves the Messages API, for an API key and for a
	// Claude account alike.
	AnthropicAPIHost = "api.anthropic.com"
	// ClaudeTokenHost serves the OAuth token endpoint of a Claude account
	// login: the code exchange after /login and every refresh.
	ClaudeTokenHost = "platform.claude.com"
	// GoogleTokenHost serves Google's OAuth token endpoint, where
	// google-auth-library refreshes an authorized_user ADC file.
	GoogleTokenHost = "oauth2.googleapis.com"
	// VertexGlobalHost serves Vertex AI for the location "global".
	VertexGlobalHost = "aiplatform.googleapis.com"
)

// DefaultProject is the Google Cloud project the Vertex AI environment
// names; the fake accepts any.
const DefaultProject = "fakeapi-project"

// Provider is a way Claude Code reaches a model.
type Provider string

// The providers NOTES.md describes. Bedrock is measured (its hosts) but
// not faked: its calls are SigV4-signed and answer in AWS's event-stream
// framing, which nothing in paude's tests needs.
const (
	// Anthropic is Anthropic's API, with ANTHROPIC_API_KEY or a Claude
	// account login.
	Anthropic Provider = "anthropic"
	// Vertex is Google Cloud Vertex AI (CLAUDE_CODE_USE_VERTEX=1).
	Vertex Provider = "vertex"
	// Bedrock is Amazon Bedrock (CLAUDE_CODE_USE_BEDROCK=1).
	Bedrock Provider = "bedrock"
)

// Hosts returns the host names Claude Code contacts for p in region (a
// Google Cloud location or an AWS region; ignored for Anthropic) with
// QuietEnv: the narrowest allowlist
// under which it works. It returns nil for an unknown provider.
//
// For Anthropic the list covers both an API key and a Claude account (the
// token refresh and the first-run connectivity check need
// platform.claude.com); the browser half of a login happens on the
// user's machine, not in the agent's.
func Hosts(p Provider, region string) []string {
	switch p {
	case Anthropic:
		return []string{AnthropicAPIHost, ClaudeTokenHost}
	case Vertex:
		return []string{VertexHost(region), GoogleTokenHost}
	case Bedrock:
		return []string{"bedrock-runtime." + region + ".amazonaws.com", "bedrock." + region + ".amazonaws.com"}
	}
	return nil
}

// VertexHost returns the Vertex AI host for a location (CLOUD_ML_REGION):
// aiplatform.googleapis.com for "global", <region>-aiplatform.googleapis.com
// otherwise.
func VertexHost(region string) string {
	if region == "global" {
		return VertexGlobalHost
	}
	return region + "-" + VertexGlobalHost
}

// IsVertexHost reports whether host is Vertex AI's global host or a
// regional one.
func IsVertexHost(host string) bool {
	if host == VertexGlobalHost {
		return true
	}
	region, ok := strings.CutSuffix(host, "-"+VertexGlobalHost)
	return ok && region != "" && !strings.Contains(region, ".")
}

// QuietEnv returns the environment that turns off all of Claude Code's
// non-essential traffic (telemetry, feature flags, release notes, model
// catalog, update checks) and its automatic install of the official
// plugin marketplace, the one fetch the first does not cover. With it,
// Claude Code contacts only Hosts(provider, region), in print mode and
// interactively (NOTES.md). paude's agent should run with it.
func QuietEnv() []string {
	return []string{"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL=1"}
}

// Env returns the environment that points Claude Code at p in region with
// the Server's credentials: ANTHROPIC_API_KEY for Anthropic, the Vertex AI
// variables for Vertex (the ADC file comes separately, from ADCFile). It
// does not include NODE_EXTRA_CA_CERTS, the proxy or QuietEnv(), which the
// caller's setup decides.
func (s *Server) Env(p Provider, region string) []string {
	switch p {
	case Anthropic:
		return []string{"ANTHROPIC_API_KEY=" + s.APIKey}
	case Vertex:
		return []string{"CLAUDE_CODE_USE_VERTEX=1", "CLOUD_ML_REGION=" + region, "ANTHROPIC_VERTEX_PROJECT_ID=" + DefaultProject}
	}
	return nil
}
