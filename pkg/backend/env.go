package backend

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
)

// ProxyHost and ProxyURL are how the agent reaches its proxy: by a name
// that the backend maps to the proxy's address (an /etc/hosts entry, a
// pod's hostAliases), since the agent has no DNS.
const (
	ProxyHost = "paude-proxy"
	ProxyURL  = "http://paude-proxy:3128"
)

// noProxy are the destinations the agent reaches without the proxy.
const noProxy = "localhost,127.0.0.1,::1"

// AgentEnv is the agent's environment, in two parts that backends pass
// differently.
type AgentEnv struct {
	// Own are paude's own variables: the entrypoint's PAUDE_* settings,
	// HOME and the proxy settings. They are derived by paude, never a
	// user's secret, so backends may show them (command lines, pod specs,
	// dry runs).
	Own map[string]string
	// Passed are the values from the configuration (env, containerEnv)
	// and the host (PassthroughEnv). They may be secrets: backends keep
	// them off command lines and out of object specs.
	Passed map[string]string
	// From names where each Passed value came from, for messages.
	From map[string]string
	// Provider is the model provider this environment selects.
	Provider Provider
}

// value is the variable k as the agent gets it, "" when unset.
func (e AgentEnv) value(k string) string {
	if v, ok := e.Own[k]; ok {
		return v
	}
	return e.Passed[k]
}

// NewAgentEnv layers the agent's environment. The model provider is
// selected from the configuration's env and the host's variables (the
// configuration wins), and only that provider's host variables are
// passed. Later sources win: QuietEnv (added to own), the provider's host
// variables, then the configuration's env less PAUDE_* names (those carry
// paude's own settings, which a project must not set), then own, which
// nothing overrides and which removes a Passed value of the same name.
// A configured value of a QuietEnv name replaces paude's.
func NewAgentEnv(cfg *config.Config, getenv func(string) string, own map[string]string) AgentEnv {
	e := AgentEnv{Own: own, Passed: map[string]string{}, From: map[string]string{}}
	lookup := configThenHost(cfg, getenv)
	e.Provider = SelectProvider(lookup)
	for _, k := range providerVars[e.Provider.Kind] {
		if v := getenv(k); v != "" {
			e.Passed[k], e.From[k] = v, "host variable "+k
		}
	}
	// Claude Code reads only ANTHROPIC_VERTEX_PROJECT_ID; many users set
	// just gcloud's GOOGLE_CLOUD_PROJECT.
	if e.Provider.Kind == ProviderVertex && lookup("ANTHROPIC_VERTEX_PROJECT_ID") == "" {
		if v := lookup("GOOGLE_CLOUD_PROJECT"); v != "" {
			e.Passed["ANTHROPIC_VERTEX_PROJECT_ID"], e.From["ANTHROPIC_VERTEX_PROJECT_ID"] = v, "GOOGLE_CLOUD_PROJECT"
		}
	}
	for k, v := range QuietEnv {
		if _, set := cfg.Env[k]; !set {
			if _, set := own[k]; !set {
				own[k] = v
			}
		}
	}
	for k, v := range cfg.Env {
		if !strings.HasPrefix(k, "PAUDE_") {
			e.Passed[k], e.From[k] = v, "configured variable "+k
		}
	}
	for k := range own {
		delete(e.Passed, k)
		delete(e.From, k)
	}
	return e
}

// configThenHost looks a variable up in the configuration's env, then on
// the host.
func configThenHost(cfg *config.Config, getenv func(string) string) func(string) string {
	return func(k string) string {
		if v, ok := cfg.Env[k]; ok {
			return v
		}
		return getenv(k)
	}
}

// ProviderFor is the model provider a session of cfg gets on a host
// whose variables getenv reads: what NewAgentEnv selects.
func ProviderFor(cfg *config.Config, getenv func(string) string) Provider {
	return SelectProvider(configThenHost(cfg, getenv))
}

// EntrypointEnv is paude's own environment of a session: what the image's
// entrypoint reads (image.Env*) and HOME. workspace is the project
// directory and stateDir the state directory as the agent sees them.
func EntrypointEnv(id string, spec SessionSpec, workspace, stateDir string) map[string]string {
	cfg := spec.Config
	env := map[string]string{
		"HOME":               image.HomeDir,
		image.EnvSessionID:   id,
		image.EnvWorkspace:   workspace,
		image.EnvStateDir:    stateDir,
		image.EnvIdleTimeout: strconv.FormatInt(Seconds(cfg.Session.IdleTimeout), 10),
		image.EnvMaxLifetime: strconv.FormatInt(Seconds(cfg.Session.MaxLifetime), 10),
	}
	if spec.Yolo {
		env[image.EnvYolo] = "1"
	}
	if cfg.Setup != "" {
		env[image.EnvSetup] = cfg.Setup
	}
	return env
}

// AddProxyEnv points the agent's HTTP clients at its proxy, in both
// spellings: curl reads only the lower-case http_proxy, most other tools
// read either.
func AddProxyEnv(env map[string]string) {
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		env[k] = ProxyURL
	}
	env["NO_PROXY"], env["no_proxy"] = noProxy, noProxy
}

// Seconds is a duration as whole seconds for the entrypoint and for
// Kubernetes deadlines, rounded up so that a limit of 1.5s does not
// become 1s; zero and less stay 0 (never).
func Seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(math.Ceil(d.Seconds()))
}
