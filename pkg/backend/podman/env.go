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

// agentEnv is the agent container's environment. Later sources win:
// Vertex pass-through, then the configuration's env (paude.json "env" or
// devcontainer "containerEnv", less PAUDE_* names), then paude's own
// variables, which the configuration cannot override.
func agentEnv(cfg *config.Config, opts backend.StartOptions, workspace string, getenv func(string) string) map[string]string {
	env := map[string]string{}
	for _, k := range VertexEnv {
		if v := getenv(k); v != "" {
			env[k] = v
		}
	}
	for k, v := range cfg.Env {
		// PAUDE_* belong to the entrypoint's contract (agent command,
		// state directory, ...); the configuration has its own keys.
		if !strings.HasPrefix(k, "PAUDE_") {
			env[k] = v
		}
	}
	if !opts.AllowNetwork {
		// Both spellings: curl reads only the lower-case http_proxy, most
		// other tools read either.
		for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
			env[k] = proxyURL()
		}
		env["NO_PROXY"], env["no_proxy"] = noProxy, noProxy
	}
	env["HOME"] = containerHome
	env["PAUDE_WORKSPACE"] = workspace
	env["PAUDE_STATE_DIR"] = stateDir
	env["PAUDE_IDLE_TIMEOUT"] = seconds(cfg.Session.IdleTimeout)
	env["PAUDE_MAX_LIFETIME"] = seconds(cfg.Session.MaxLifetime)
	if opts.Yolo {
		env["PAUDE_YOLO"] = "1"
	}
	if cfg.Setup != "" {
		env["PAUDE_SETUP"] = cfg.Setup
	}
	return env
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
