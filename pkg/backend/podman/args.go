package podman

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

// Every podman command the backend runs is built here by a pure function
// of its inputs, so unit tests can assert the exact argv.

// infoArgs asks a remote podman whether it is rootless and how many CPUs
// its machine has (--cpus above that is refused).
func infoArgs() []string {
	return []string{"info", "--format", "{{.Host.Security.Rootless}} {{.Host.CPUs}}"}
}

// networkCreateArgs creates a session's network: --internal gives it no
// route out; --disable-dns keeps aardvark-dns off it, since aardvark-dns
// before 1.11 forwards internal networks' queries to the host's resolvers
// (a DNS tunnel out). Only the session's agent and its proxy join it.
func networkCreateArgs(id string) []string {
	return append(append([]string{"network", "create", "--internal", "--disable-dns"},
		labelArgs(backend.SessionLabels(id, backend.RoleNetwork))...), sessionNetwork(id))
}

func networkRemoveArgs(names ...string) []string { return append([]string{"network", "rm"}, names...) }

// networkConnectArgs attaches a container (a proxy) to a network.
func networkConnectArgs(network, container string) []string {
	return []string{"network", "connect", network, container}
}

// networkDisconnectArgs detaches it again.
func networkDisconnectArgs(network, container string) []string {
	return []string{"network", "disconnect", network, container}
}

// listNetworksArgs lists paude's networks as JSON (podman 4's templates
// cannot index a network's labels).
func listNetworksArgs() []string {
	return []string{"network", "ls", "--filter", "label=" + backend.LabelApp + "=" + backend.AppName, "--format", "json"}
}

func inspectArgs(name string) []string {
	return []string{"container", "inspect", "--format", "json", name}
}

// listArgs lists containers with the given role, stopped ones included.
func listArgs(role string) []string {
	return []string{"ps", "-a", "--filter", "label=" + backend.LabelApp + "=" + backend.AppName,
		"--filter", "label=" + backend.LabelRole + "=" + role, "--format", "json"}
}

// removeArgs removes containers and their anonymous volumes; a container
// that is already gone is not an error.
func removeArgs(names ...string) []string {
	return append([]string{"rm", "--force", "--ignore", "--volumes",
		"--time", strconv.Itoa(stopTimeoutSeconds)}, names...)
}

// volumeCreateArgs creates a labelled named volume; podman refuses a name
// that exists, which a start takes as "already there".
func volumeCreateArgs(v volumeSpec) []string {
	labels := map[string]string{backend.LabelApp: backend.AppName, backend.LabelRole: v.Role, backend.KeyWorkspace: v.Workspace}
	if v.SessionID != "" {
		labels[backend.LabelSessionID] = v.SessionID
	}
	return append(append([]string{"volume", "create"}, labelArgs(labels)...), v.Name)
}

func volumeRemoveArgs(names ...string) []string {
	return append([]string{"volume", "rm", "--force"}, names...)
}

func startArgs(name string) []string { return []string{"start", name} }

// statusArgs asks the entrypoint whether the agent's tmux session runs.
func statusArgs(name string) []string {
	return []string{"exec", name, image.EntrypointPath, image.ModeStatus}
}

// attachArgs attaches the caller's terminal to the session's tmux, with
// `tmux attach -d` inside so a stale client of a killed terminal is
// detached first.
func attachArgs(name, term string) []string {
	args := []string{"exec", "-it"}
	if term != "" {
		args = append(args, "-e", "TERM="+term)
	}
	return append(args, name, image.EntrypointPath, image.ModeAttach)
}

// captureArgs prints the session's current screen, for a caller without
// a terminal.
func captureArgs(name string) []string {
	return []string{"exec", name, "tmux", "capture-pane", "-p", "-t", "=" + image.TmuxSession + ":"}
}

func logsArgs(name string) []string { return []string{"logs", "--tail", "20", name} }

// proxyProbeArgs succeeds when squid accepts connections.
func proxyProbeArgs(name string) []string {
	return []string{"exec", name, "bash", "-c",
		fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d", image.ProxyPort)}
}

// labelArgs renders labels as --label flags in key order.
func labelArgs(labels map[string]string) []string {
	var args []string
	for _, k := range sortedKeys(labels) {
		args = append(args, "--label", k+"="+labels[k])
	}
	return args
}

// envArgs renders the environment as -e flags in key order. Only paude's
// own variables go here: argv is readable by every local user.
func envArgs(env map[string]string) []string {
	var args []string
	for _, k := range sortedKeys(env) {
		args = append(args, "-e", k+"="+env[k])
	}
	return args
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
