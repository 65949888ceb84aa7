package plugin

import (
	"fmt"
	"os"
	"strings"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/pkg/backend/podman"
	"github.com/paude-dev/paude/pkg/config"
)

// Environment knobs for the Podman backend. They exist for setups without a
// registry (air-gapped machines, CI) and for pointing the proxy at names a
// local DNS does not know; docs/PODMAN.md describes them.
const (
	envPodmanPull       = "PAUDE_PODMAN_PULL"        // podman --pull policy
	envPodmanNetwork    = "PAUDE_PODMAN_NETWORK"     // the proxy's outside network
	envPodmanProxyHosts = "PAUDE_PODMAN_PROXY_HOSTS" // "name=ip,name=ip" for the proxy's /etc/hosts
)

// newBackend is the real backend factory.
func newBackend(o *RootOptions, t backend.Type) (backend.Backend, error) {
	switch t {
	case backend.Podman:
		hosts, err := parseHostList(os.Getenv(envPodmanProxyHosts))
		if err != nil {
			return nil, err
		}
		return podman.New(podman.Options{
			Progress:        o.Progress(),
			PullPolicy:      os.Getenv(envPodmanPull),
			ExternalNetwork: os.Getenv(envPodmanNetwork),
			ProxyHosts:      hosts,
			Command:         o.Flavor.DisplayName,
		}), nil
	case backend.OpenShift:
		return openshift.New(openshift.Options{
			ConfigFlags:      o.KubeFlags,
			Config:           o.projectConfig(),
			Progress:         o.Progress(),
			Warnings:         o.Streams.ErrOut,
			Command:          o.Flavor.DisplayName,
			Registry:         o.Registry,
			RegistryInsecure: o.RegistryInsecure,
			PullPolicy:       os.Getenv(envPodmanPull),
		})
	default:
		return nil, &backend.UnavailableError{Backend: t, Reason: "unknown backend"}
	}
}

// projectConfig is the configuration of the current directory for commands
// other than start (attach's resume, stop, cleanup need namespace and
// volume settings). A broken file must not stop a user from stopping a
// session, so a load error falls back to the defaults with a warning.
// So does a configuration the user has not trusted: a cloned repository's
// file, or one the agent rewrote through sync, must neither choose where
// stop, cleanup or sessions act (nor which namespace would receive
// credentials) nor widen the allowlist or bring host variables into a
// session that attach resumes. nil means paude's defaults.
func (o *RootOptions) projectConfig() *config.Config {
	if o.config != nil || o.configLoaded {
		return o.config
	}
	o.configLoaded = true
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	cfg, err := config.Load(wd)
	if err != nil {
		_, _ = fmt.Fprintf(o.Streams.ErrOut, "warning: ignoring the project configuration, using defaults: %v\n", err)
		return nil
	}
	if trusted, err := isTrusted(cfg); err != nil || !trusted {
		_, _ = fmt.Fprintf(o.Streams.ErrOut, "note: ignoring %s, which is not trusted (it changed, or was never reviewed): paude's defaults apply; review it with '%s'\n",
			cfg.Path, trustCommand(o))
		return nil
	}
	o.config = cfg
	return cfg
}

// parseHostList reads "name=ip,name=ip".
func parseHostList(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	hosts := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		name, ip, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || name == "" || ip == "" {
			return nil, fmt.Errorf("invalid %s entry %q: write name=ip, separated by commas", envPodmanProxyHosts, pair)
		}
		hosts[name] = ip
	}
	return hosts, nil
}

// homeDir is the user's home directory, "" when it is unknown.
func homeDir() string {
	h, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return h
}
