package backend

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/paude-dev/paude/pkg/config"
)

// ProviderKind names the service Claude Code sends its model calls to.
type ProviderKind string

// The model providers, as Claude Code chooses between them.
const (
	// ProviderAnthropic is Anthropic's API, with an API key, a
	// long-lived token or a Claude account login.
	ProviderAnthropic ProviderKind = "anthropic"
	// ProviderVertex is Google Cloud Vertex AI (CLAUDE_CODE_USE_VERTEX).
	ProviderVertex ProviderKind = "vertex"
	// ProviderBedrock is Amazon Bedrock (CLAUDE_CODE_USE_BEDROCK).
	ProviderBedrock ProviderKind = "bedrock"
)

// Provider is the model provider an agent's environment selects.
type Provider struct {
	Kind ProviderKind
	// Region is CLOUD_ML_REGION (Vertex AI) or AWS_REGION (Bedrock), ""
	// for Anthropic or when it is not set.
	Region string
}

// providerVars are the host variables each provider needs, passed to the
// agent when set. Only the selected provider's go in: a Vertex AI session
// does not get the AWS keys that happen to be in the user's shell.
var providerVars = map[ProviderKind][]string{
	ProviderAnthropic: {"ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"},
	ProviderVertex:    {"CLAUDE_CODE_USE_VERTEX", "CLOUD_ML_REGION", "ANTHROPIC_VERTEX_PROJECT_ID", "GOOGLE_CLOUD_PROJECT"},
	ProviderBedrock: {"CLAUDE_CODE_USE_BEDROCK", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"},
}

// PassthroughEnv are the host variables that may be passed to the agent:
// those of every provider. A backend reads these from the host and hands
// them to NewAgentEnv, which keeps the selected provider's.
var PassthroughEnv = slices.Concat(providerVars[ProviderVertex], providerVars[ProviderBedrock], providerVars[ProviderAnthropic])

// QuietEnv turns off Claude Code's non-essential traffic (telemetry,
// feature flags, update checks, release notes) and its automatic install
// of the official plugin marketplace, so that it contacts only its model
// provider's hosts (tests/fakeapi/NOTES.md). Every session gets it unless
// the configuration's env sets the same name.
var QuietEnv = map[string]string{
	"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC":             "1",
	"CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
}

// SelectProvider picks the provider as Claude Code does: Bedrock when
// CLAUDE_CODE_USE_BEDROCK is true, else Vertex AI when
// CLAUDE_CODE_USE_VERTEX is, else Anthropic's API.
func SelectProvider(lookup func(string) string) Provider {
	switch {
	case truthy(lookup("CLAUDE_CODE_USE_BEDROCK")):
		return Provider{Kind: ProviderBedrock, Region: lookup("AWS_REGION")}
	case truthy(lookup("CLAUDE_CODE_USE_VERTEX")):
		return Provider{Kind: ProviderVertex, Region: lookup("CLOUD_ML_REGION")}
	}
	return Provider{Kind: ProviderAnthropic}
}

// truthy reads a boolean variable the way Claude Code does.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// regionName is what a Google Cloud location or AWS region looks like; it
// becomes part of a host name in the proxy's configuration.
var regionName = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$|^global$`)

// Hosts are the hosts Claude Code contacts for p with QuietEnv, as
// measured (tests/fakeapi/NOTES.md): the narrowest allowlist under which
// it works. Vertex AI gets the global host besides the region's, where a
// model whose region is overridden to "global" goes. A region that is not
// set or not a region name is an error.
func (p Provider) Hosts() ([]string, error) {
	switch p.Kind {
	case ProviderAnthropic:
		// The API, and the token endpoint of a Claude account login (and
		// its first-run connectivity check); the browser half of a login
		// runs on the user's machine.
		return []string{"api.anthropic.com", "platform.claude.com"}, nil
	case ProviderVertex:
		if err := p.checkRegion("CLOUD_ML_REGION", "us-east5"); err != nil {
			return nil, err
		}
		hosts := []string{"aiplatform.googleapis.com", "oauth2.googleapis.com"}
		if p.Region != "global" {
			hosts = append(hosts, p.Region+"-aiplatform.googleapis.com")
		}
		slices.Sort(hosts)
		return hosts, nil
	case ProviderBedrock:
		if err := p.checkRegion("AWS_REGION", "us-east-1"); err != nil {
			return nil, err
		}
		return []string{"bedrock-runtime." + p.Region + ".amazonaws.com", "bedrock." + p.Region + ".amazonaws.com"}, nil
	}
	return nil, fmt.Errorf("unknown model provider %q", p.Kind)
}

// checkRegion checks the region variable name of p.
func (p Provider) checkRegion(name, example string) error {
	if p.Region == "" {
		return fmt.Errorf("%s is not set: set it to the region of your %s models (e.g. %s=%s)", name, p.Kind.Title(), name, example)
	}
	if !regionName.MatchString(p.Region) {
		return fmt.Errorf("%s=%q is not a region name: set it to a region such as %s", name, p.Region, example)
	}
	return nil
}

// Title is the provider's name for messages.
func (k ProviderKind) Title() string {
	switch k {
	case ProviderVertex:
		return "Vertex AI"
	case ProviderBedrock:
		return "Bedrock"
	}
	return "Anthropic API"
}

// AllowedDomains is the allowlist of a session's proxy: the
// configuration's network.allowedDomains when it sets them, the hosts of
// the model provider p otherwise, or both with network.extendDefaults.
// Both backends render their proxy from it. A provider host that a
// ".suffix" entry of the configuration already covers is left out (squid
// refuses overlaps).
func AllowedDomains(n config.Network, p Provider) ([]string, error) {
	if n.AllowedDomainsSet && !n.ExtendDefaults {
		return slices.Clone(n.AllowedDomains), nil
	}
	hosts, err := p.Hosts()
	if err != nil {
		return nil, fmt.Errorf("failed to work out the default network allowlist: %w; or list the hosts in network.allowedDomains", err)
	}
	out := slices.Clone(n.AllowedDomains)
	for _, h := range hosts {
		if !covered(h, out) {
			out = append(out, h)
		}
	}
	return out, nil
}

// covered reports whether list names host or a ".suffix" of it.
func covered(host string, list []string) bool {
	for _, e := range list {
		if e == host || strings.HasPrefix(e, ".") && (host == e[1:] || strings.HasSuffix(host, e)) {
			return true
		}
	}
	return false
}

// CheckProvider refuses a Claude Code session whose chosen provider
// cannot work: Vertex AI or Bedrock selected without the project, region
// or credentials they need. It names what to set instead of letting the
// agent fail inside the container. With Anthropic's API and no key,
// token or stored login it does not refuse: Claude Code then shows its
// own welcome screen and logs in inside the session (its hosts are on the
// allowlist), and the note says so. Other agents are not checked.
func CheckProvider(cfg *config.Config, env AgentEnv, files []HomeFile) (note string, err error) {
	if cfg.Agent.Name != config.DefaultAgent {
		return "", nil
	}
	has := func(k string) bool { return env.value(k) != "" }
	hasFile := func(rel string) bool {
		return slices.ContainsFunc(files, func(f HomeFile) bool { return f.Rel == rel })
	}
	p := env.Provider
	if _, err := p.Hosts(); err != nil {
		return "", fmt.Errorf("claude code cannot reach %s: %w", p.Kind.Title(), err)
	}
	switch p.Kind {
	case ProviderVertex:
		if !has("ANTHROPIC_VERTEX_PROJECT_ID") {
			return "", fmt.Errorf("claude code cannot reach Vertex AI: ANTHROPIC_VERTEX_PROJECT_ID is not set: set it (or GOOGLE_CLOUD_PROJECT) to your Google Cloud project")
		}
		if !hasFile(gcloudADC) && !has("GOOGLE_APPLICATION_CREDENTIALS") {
			return "", fmt.Errorf("claude code cannot reach Vertex AI: no application-default credentials in ~/.config/gcloud: run 'gcloud auth application-default login'")
		}
	case ProviderBedrock:
		if !has("AWS_BEARER_TOKEN_BEDROCK") && (!has("AWS_ACCESS_KEY_ID") || !has("AWS_SECRET_ACCESS_KEY")) {
			return "", fmt.Errorf("claude code cannot reach Bedrock: no AWS credentials in the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_BEARER_TOKEN_BEDROCK; paude does not copy ~/.aws")
		}
	default:
		if !has("ANTHROPIC_API_KEY") && !has("CLAUDE_CODE_OAUTH_TOKEN") && !has("ANTHROPIC_AUTH_TOKEN") && !hasFile(claudeLogin) {
			return "Note: no Anthropic login found (ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN, or a login in ~/.claude): " +
				"Claude Code will ask you to log in inside the session; to skip that, set ANTHROPIC_API_KEY, log in once with 'claude' on this machine, " +
				"or select Vertex AI (CLAUDE_CODE_USE_VERTEX=1) or Bedrock (CLAUDE_CODE_USE_BEDROCK=1)", nil
		}
	}
	return "", nil
}
