package podman

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// VertexEnv are the host variables passed through to the agent when set:
// they select Vertex AI and its project and region for Claude Code.
var VertexEnv = []string{
	"CLAUDE_CODE_USE_VERTEX",
	"ANTHROPIC_VERTEX_PROJECT_ID",
	"GOOGLE_CLOUD_PROJECT",
	"CLOUD_ML_REGION",
}

// proxyURL is what HTTP(S)_PROXY point at inside the agent.
func proxyURL() string { return fmt.Sprintf("http://%s:%d", ProxyHostname, proxyPort) }

// noProxy are the destinations the agent reaches without the proxy.
const noProxy = "localhost,127.0.0.1,::1"

// agentEnvironment is the agent container's environment, in two parts
// that reach podman differently.
type agentEnvironment struct {
	// Own are paude's own variables: the proxy settings, HOME, and the
	// PAUDE_* settings of the entrypoint. They are fixed or derived by
	// paude (paths, whole seconds, "1"), never a user's secret, so they
	// stay -e flags, which keeps the create command readable in golden
	// files, dry runs and `podman inspect`. PAUDE_SETUP is among them: it
	// is shell code from the project's configuration (never filled from
	// the host), which reads secrets from the environment as $NAME, and
	// it often spans lines (a postCreateCommand object always does),
	// which an env file cannot carry.
	Own map[string]string
	// Passed are the values from the configuration (env, containerEnv)
	// and the host (Vertex AI pass-through): they may be secrets, so they
	// go to the env file, never on podman's command line.
	Passed map[string]string
	// from names where each Passed value came from, for errors.
	from map[string]string
}

// agentEnv is the agent container's environment. Later sources win:
// Vertex pass-through, then the configuration's env (paude.json "env" or
// devcontainer "containerEnv", less PAUDE_* names), then paude's own
// variables, which the configuration cannot override.
func agentEnv(cfg *config.Config, opts backend.StartOptions, workspace string, getenv func(string) string) agentEnvironment {
	e := agentEnvironment{Own: map[string]string{}, Passed: map[string]string{}, from: map[string]string{}}
	for _, k := range VertexEnv {
		if v := getenv(k); v != "" {
			e.Passed[k], e.from[k] = v, "host variable "+k
		}
	}
	for k, v := range cfg.Env {
		// PAUDE_* belong to the entrypoint's contract (agent command,
		// state directory, ...); the configuration has its own keys.
		if !strings.HasPrefix(k, "PAUDE_") {
			e.Passed[k], e.from[k] = v, "configured variable "+k
		}
	}
	own := e.Own
	if !opts.AllowNetwork {
		// Both spellings: curl reads only the lower-case http_proxy, most
		// other tools read either.
		for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
			own[k] = proxyURL()
		}
		own["NO_PROXY"], own["no_proxy"] = noProxy, noProxy
	}
	own["HOME"] = containerHome
	own["PAUDE_WORKSPACE"] = workspace
	own["PAUDE_STATE_DIR"] = stateDir
	own["PAUDE_IDLE_TIMEOUT"] = seconds(cfg.Session.IdleTimeout)
	own["PAUDE_MAX_LIFETIME"] = seconds(cfg.Session.MaxLifetime)
	if opts.Yolo {
		own["PAUDE_YOLO"] = "1"
	}
	if cfg.Setup != "" {
		own["PAUDE_SETUP"] = cfg.Setup
	}
	// paude's own values win; a configured HTTPS_PROXY must not even
	// reach the file (-e would override it, but podman would read it).
	for k := range own {
		delete(e.Passed, k)
		delete(e.from, k)
	}
	return e
}

// check refuses, before anything is created, a value the env file cannot
// carry, naming the setting it came from.
func (e agentEnvironment) check() error {
	for _, k := range sortedKeys(e.Passed) {
		if err := checkEnvFileVar(k, e.Passed[k]); err != nil {
			return fmt.Errorf("%s cannot be passed to the session: %w", e.from[k], err)
		}
	}
	return nil
}

// seconds renders a duration as whole seconds, rounded up so a limit of
// 1.5s does not become 1s; 0 stays 0 (never).
func seconds(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

// limitsFor turns backend.resources into podman limits. CPU limits above
// the podman machine's CPU count are lowered to it (podman refuses them);
// the returned note says so.
func limitsFor(r config.Resources, hostCPUs int) (limits, string, error) {
	l := limits{Pids: defaultPidsLimit}
	var note string
	if r.Limits.Memory != "" {
		q, err := resource.ParseQuantity(r.Limits.Memory)
		if err != nil {
			return l, "", fmt.Errorf("invalid backend.resources.limits.memory %q: %w: use a quantity such as 8Gi", r.Limits.Memory, err)
		}
		l.MemoryBytes = q.Value()
	}
	if r.Requests.Memory != "" {
		q, err := resource.ParseQuantity(r.Requests.Memory)
		if err != nil {
			return l, "", fmt.Errorf("invalid backend.resources.requests.memory %q: %w: use a quantity such as 4Gi", r.Requests.Memory, err)
		}
		l.MemoryReservation = q.Value()
		if l.MemoryBytes > 0 && l.MemoryReservation > l.MemoryBytes {
			l.MemoryReservation = l.MemoryBytes
		}
	}
	if r.Limits.CPU != "" {
		q, err := resource.ParseQuantity(r.Limits.CPU)
		if err != nil {
			return l, "", fmt.Errorf("invalid backend.resources.limits.cpu %q: %w: use a quantity such as 4 or 500m", r.Limits.CPU, err)
		}
		milli := q.MilliValue()
		if hostCPUs > 0 && milli > int64(hostCPUs)*1000 {
			note = fmt.Sprintf("cpu limit %s lowered to the %d CPUs podman has", r.Limits.CPU, hostCPUs)
			milli = int64(hostCPUs) * 1000
		}
		if milli > 0 {
			l.CPUs = strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64)
		}
	}
	if r.Requests.CPU != "" {
		q, err := resource.ParseQuantity(r.Requests.CPU)
		if err != nil {
			return l, "", fmt.Errorf("invalid backend.resources.requests.cpu %q: %w: use a quantity such as 1 or 500m", r.Requests.CPU, err)
		}
		// The kubelet's mapping: 1 CPU = 1024 shares, at least 2.
		l.CPUShares = max(q.MilliValue()*1024/1000, 2)
	}
	return l, note, nil
}
