package podman

import (
	"strconv"
	"time"
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
	// Env are -e flags: paude's own variables only (see agentEnvironment).
	Env map[string]string
	// EnvFile is the --env-file with the values from the configuration
	// and the host; "" = none.
	EnvFile string
	Mounts  []mount
	Limits  limits
	// PullPolicy is podman's --pull for the image ("" = podman's default).
	PullPolicy string
	AgentArgs  []string
}

// mount is a bind mount (Source is a host path) or a named volume.
type mount struct {
	Source   string
	Target   string
	ReadOnly bool
	// Volume marks Source as a named volume; it is chowned to the
	// container's user (:U) so the non-root agent can write it.
	Volume bool
}

func (m mount) flag() string {
	v := m.Source + ":" + m.Target
	switch {
	case m.Volume:
		v += ":U"
	case m.ReadOnly:
		v += ":ro"
	}
	return v
}

// limits are the container's resource limits; zero values are left out.
type limits struct {
	MemoryBytes       int64
	MemoryReservation int64
	CPUs              string
	CPUShares         int64
	Pids              int
}

func (l limits) args() []string {
	var args []string
	if l.Pids > 0 {
		args = append(args, "--pids-limit", strconv.Itoa(l.Pids))
	}
	if l.MemoryBytes > 0 {
		args = append(args, "--memory", strconv.FormatInt(l.MemoryBytes, 10))
	}
	if l.MemoryReservation > 0 {
		args = append(args, "--memory-reservation", strconv.FormatInt(l.MemoryReservation, 10))
	}
	if l.CPUs != "" {
		args = append(args, "--cpus", l.CPUs)
	}
	if l.CPUShares > 0 {
		args = append(args, "--cpu-shares", strconv.FormatInt(l.CPUShares, 10))
	}
	return args
}

// networkMode is the value of the paude.io/network label.
func (s agentSpec) networkMode() string {
	if s.ProxyIP == "" {
		return "open"
	}
	return "proxy"
}

// createAgentArgs is the `podman create` of a session's agent container:
// detached (the entrypoint runs the agent in tmux), hardened, labelled,
// limited, with the workspace at the same absolute path.
func createAgentArgs(s agentSpec) []string {
	name := containerName(s.ID)
	args := []string{"create", "--name", name, "--hostname", name}
	args = append(args, labelArgs(agentLabels(s.ID, s.Workspace, s.CreatedAt, s.networkMode()))...)
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
		args = append(args, "--dns", "none", "--add-host", ProxyHostname+":"+s.ProxyIP)
		// podman copies the host's proxy variables (ftp_proxy among
		// them, which paude does not set) into the container by
		// default; behind paude's proxy the only proxy is paude's.
		args = append(args, "--http-proxy=false")
	}
	if s.EnvFile != "" {
		args = append(args, "--env-file", s.EnvFile)
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
