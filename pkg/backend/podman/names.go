package podman

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
)

// Object names. Each session has its own agent container, its own
// internal network and its own git repository volume; a proxy serves the
// sessions whose proxy configuration (allowlist, image, hosts) is the
// same, and is named by that configuration's hash.
const (
	// proxyPrefix starts every proxy container's name: "paude-proxy-<hash>".
	// (Older paude ran one "paude-proxy" on a shared "paude-internal"
	// network; stop --all and cleanup remove them by their labels.)
	proxyPrefix = "paude-proxy-"
	// networkPrefix starts a session's network: "paude-net-<id>", with no
	// route out and no DNS, holding only its agent and its proxy.
	networkPrefix = "paude-net-"
	// gitVolumePrefix starts a session's git repository volume.
	gitVolumePrefix = "paude-git-"
	// DefaultExternalNetwork is podman's default network, through which the
	// proxy (and an --allow-network agent) reaches the internet.
	DefaultExternalNetwork = "podman"

	// containerPrefix starts every agent container name.
	containerPrefix = "paude-"
	// defaultPidsLimit caps the agent's processes; paude.json has no key
	// for it, as a fork bomb is never what a user wants.
	defaultPidsLimit = 4096
	// stopTimeoutSeconds is how long podman waits after SIGTERM.
	stopTimeoutSeconds = 10
	// envFileRel is where, below the agent's HOME, the values that stay
	// off podman's command line are copied (image.EnvEnvFile).
	envFileRel = ".paude/env"
)

// containerName is the agent container of a session.
func containerName(id string) string { return containerPrefix + id }

// proxyName is the proxy container serving the configuration hash.
func proxyName(hash string) string { return proxyPrefix + hash }

// sessionNetwork is a session's internal network.
func sessionNetwork(id string) string { return networkPrefix + id }

// gitVolume is the volume holding a session's own git repository.
func gitVolume(id string) string { return gitVolumePrefix + id }

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
