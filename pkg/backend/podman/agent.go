package podman

import (
	"strconv"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
)

// agentSpec is everything the agent container's `podman create` depends on.
type agentSpec struct {
	ID        string
	Workspace string
	Image     string
	CreatedAt time.Time
	// User is the --user value ("uid:gid"); KeepID adds --userns keep-id
	// (rootless podman, where it maps the host user into the container).
	User   string
	KeepID bool
	// Network is the one network the agent joins. ProxyIP is the proxy's
	// address on it; "" means --allow-network (no proxy, normal DNS).
	Network string
	ProxyIP string
	// ProxyHash names the session's proxy (proxyName); "" without one.
	ProxyHash string
	// AllowlistHash is its allowlist's hash (backend.LabelAllowlist).
	AllowlistHash string
	// GitDir is the session's repository in the container, "" without a
	// git boundary.
	GitDir string
	// Env are -e flags: paude's own variables only (backend.AgentEnv.Own);
	// the others travel in the copied env file.
	Env    map[string]string
	Mounts []mount
	Limits limits
	// PullPolicy is podman's --pull for the image ("" = podman's default).
	PullPolicy string
	AgentArgs  []string
}

// networkMode is the value of the network-mode label.
func (s agentSpec) networkMode() string {
	if s.ProxyHash == "" {
		return backend.NetworkOpen
	}
	return backend.NetworkProxy
}

// agentLabels are the labels of a session's agent container.
func (s agentSpec) labels() map[string]string {
	l := backend.SessionLabels(s.ID, backend.RoleAgent)
	l[backend.KeyWorkspace] = s.Workspace
	l[backend.KeyCreatedAt] = s.CreatedAt.UTC().Format(time.RFC3339)
	l[backend.LabelNetworkMode] = s.networkMode()
	if s.ProxyHash != "" {
		l[backend.LabelProxyConfig] = s.ProxyHash
	}
	if s.AllowlistHash != "" {
		l[backend.LabelAllowlist] = s.AllowlistHash
	}
	if s.GitDir != "" {
		l[labelGitDir] = s.GitDir
	}
	return l
}

// createAgentArgs is the `podman create` of a session's agent container:
// detached (the entrypoint runs the agent in tmux), hardened, labelled,
// limited, with the workspace at the same absolute path.
func createAgentArgs(s agentSpec) []string {
	name := containerName(s.ID)
	args := []string{"create", "--name", name, "--hostname", name}
	args = append(args, labelArgs(s.labels())...)
	args = append(args,
		"--cap-drop", "ALL",
		"--security-opt", "no-new-privileges",
		"--stop-timeout", strconv.Itoa(stopTimeoutSeconds),
	)
	if s.KeepID {
		args = append(args, "--userns", "keep-id")
	}
	if s.User != "" {
		args = append(args, "--user", s.User)
	}
	args = append(args, s.Limits.args()...)
	if s.PullPolicy != "" {
		args = append(args, "--pull", s.PullPolicy)
	}
	args = append(args, "--network", s.Network)
	if s.ProxyIP != "" {
		// No resolver at all: outside names cannot be looked up, so DNS
		// cannot carry data out. The proxy is found through /etc/hosts.
		args = append(args, "--dns", "none", "--add-host", backend.ProxyHost+":"+s.ProxyIP)
		// podman copies the host's proxy variables (ftp_proxy among
		// them, which paude does not set) into the container by
		// default; behind paude's proxy the only proxy is paude's.
		args = append(args, "--http-proxy=false")
		// An internal network routes nothing, but IPv6 link-local does
		// not need a route: with it the agent reaches the host's side of
		// the network's bridge (fe80::…%eth0), and every service the
		// host listens with on [::]. The agent's network stack has no
		// IPv6 at all; without CAP_NET_ADMIN, and with /proc/sys
		// read-only, it cannot turn it back on.
		args = append(args, "--sysctl", "net.ipv6.conf.all.disable_ipv6=1", "--sysctl", "net.ipv6.conf.default.disable_ipv6=1")
	}
	args = append(args, envArgs(s.Env)...)
	for _, m := range s.Mounts {
		args = append(args, "-v", m.flag())
	}
	args = append(args, "-w", s.Workspace, s.Image)
	// "--" keeps agent arguments such as "attach" from being read as an
	// entrypoint mode.
	args = append(args, "--")
	return append(args, s.AgentArgs...)
}
