package podman

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
)

// Object names. The proxy and the internal network are shared by every
// session on the machine; each session has its own agent container.
const (
	// ProxyContainer is the name of the shared squid container.
	ProxyContainer = "paude-proxy"
	// InternalNetwork is the network agents live on: no route out, no DNS.
	InternalNetwork = "paude-internal"
	// DefaultExternalNetwork is podman's default network, through which the
	// proxy (and an --allow-network agent) reaches the internet.
	DefaultExternalNetwork = "podman"
	// ProxyHostname is the name the agent uses for the proxy, resolved by
	// an /etc/hosts entry since the agent has no DNS.
	ProxyHostname = "paude-proxy"

	// containerPrefix starts every agent container name.
	containerPrefix = "paude-"
	// containerHome is HOME inside the agent image.
	containerHome = "/home/paude"
	// stateDir is where the per-workspace state volume is mounted
	// (PAUDE_STATE_DIR: setup markers and logs, never in the workspace).
	stateDir = "/var/lib/paude-state"
	// entrypoint is the agent image's entrypoint program.
	entrypoint = "/usr/local/bin/paude-entrypoint"
	// tmuxSession is the tmux session the entrypoint runs the agent in.
	tmuxSession = "claude"
	// defaultPidsLimit caps the agent's processes; paude.json has no key
	// for it, as a fork bomb is never what a user wants.
	defaultPidsLimit = 4096
	// stopTimeoutSeconds is how long podman waits after SIGTERM.
	stopTimeoutSeconds = 10
)

// Labels on every object paude creates. app=paude marks them all; role
// says which kind of object it is.
const (
	LabelApp       = "app"
	LabelRole      = "paude.io/role"
	LabelSessionID = "paude.io/session-id"
	LabelWorkspace = "paude.io/workspace"
	LabelCreatedAt = "paude.io/created-at"
	// LabelProxyConfig is the hash of the proxy's squid.conf and image,
	// compared to decide whether a running proxy can be reused.
	LabelProxyConfig = "paude.io/proxy-config"
	// LabelNetworkMode is "proxy" or "open" (--allow-network).
	LabelNetworkMode = "paude.io/network"

	appName     = "paude"
	roleAgent   = "agent"
	roleProxy   = "proxy"
	roleNetwork = "network"
	roleState   = "state"
	roleVenv    = "venv"
)

// containerName is the agent container of a session.
func containerName(id string) string { return containerPrefix + id }

// workspaceKey is a short stable key of a workspace path, used to name
// its volumes.
func workspaceKey(workspace string) string {
	sum := sha256.Sum256([]byte(path.Clean(workspace)))
	return hex.EncodeToString(sum[:6])
}

// stateVolume names the per-workspace volume behind PAUDE_STATE_DIR, so
// setup runs once per workspace and not once per session.
func stateVolume(workspace string) string {
	return "paude-state-" + workspaceKey(workspace)
}

// venvVolume names the volume that shadows one venv directory of a
// workspace; it persists, so a venv built inside survives sessions.
func venvVolume(workspace, dir string) string {
	sum := sha256.Sum256([]byte(path.Clean(dir)))
	return "paude-venv-" + workspaceKey(workspace) + "-" + hex.EncodeToString(sum[:4])
}
