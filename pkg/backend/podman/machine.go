package podman

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/klog/v2"

	"github.com/paude-dev/paude/pkg/podmancli"
)

// The podman machine. On macOS podman is the client of a Linux virtual
// machine (`podman machine`), and the source of a bind mount is a path in
// that machine: a directory of the Mac is there only when the machine
// shares it, by default /Users, /private and /var/folders, each at the
// same path. Any other directory, such as one on /Volumes, either does
// not exist in the machine or, worse, is some other directory of it
// (/tmp). So a start finds out which machine podman talks to and what it
// shares, and refuses a host path it would mount that the machine does
// not share at the same path, before it creates anything.
//
// podman machine inspect does not print the shares; they are in the
// machine's configuration file, <ConfigDir>/<name>.json (podman 5) or
// ConfigPath (podman 4), which inspect names.

// podmanMachine is the podman machine podman's connection goes to.
type podmanMachine struct {
	Name   string
	Mounts []machineMount
}

// machineMount is one directory a machine shares with this computer.
type machineMount struct {
	// Source is the directory on this computer, Target its path in the
	// machine.
	Source, Target string
	ReadOnly       bool
}

// podmanConnection is an entry of `podman system connection list`.
type podmanConnection struct {
	Name    string
	URI     string
	Default bool
}

// machineListEntry is an entry of `podman machine list`.
type machineListEntry struct {
	Name string
	Port int
}

// machineInspect is the part of `podman machine inspect` that locates
// the machine's configuration file.
type machineInspect struct {
	Name      string
	ConfigDir struct{ Path string }
	// ConfigPath is podman 4's name of the file itself.
	ConfigPath struct{ Path string }
}

// machineConfig is the part of a machine's configuration file that
// lists its shares.
type machineConfig struct {
	Mounts []machineMount
}

func connectionListArgs() []string {
	return []string{"system", "connection", "list", "--format", "json"}
}

func machineListArgs() []string { return []string{"machine", "list", "--format", "json"} }

func machineInspectArgs(name string) []string { return []string{"machine", "inspect", name} }

// localPodman reports whether podman runs on this machine: on Linux,
// unless CONTAINER_HOST or CONTAINER_CONNECTION send it elsewhere.
func (b *Backend) localPodman() bool {
	return b.goos == "linux" && b.opts.Getenv("CONTAINER_HOST") == "" && b.opts.Getenv("CONTAINER_CONNECTION") == ""
}

// detectMachine finds the podman machine podman's connection goes to: nil
// when podman is local, or its connection is no machine of this computer
// (CONTAINER_HOST, an ssh connection to a server). An error means paude
// could not tell; the start goes on and podman reports what it finds.
func (b *Backend) detectMachine() (*podmanMachine, error) {
	if b.localPodman() || b.opts.Getenv("CONTAINER_HOST") != "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conns []podmanConnection
	if err := b.runJSON(ctx, connectionListArgs(), &conns); err != nil {
		return nil, err
	}
	port, ok := machinePort(conns, b.opts.Getenv("CONTAINER_CONNECTION"))
	if !ok {
		return nil, nil
	}
	var machines []machineListEntry
	if err := b.runJSON(ctx, machineListArgs(), &machines); err != nil {
		return nil, err
	}
	name := ""
	for _, m := range machines {
		if m.Port == port {
			name = m.Name
		}
	}
	if name == "" {
		return nil, nil
	}
	var inspected []machineInspect
	if err := b.runJSON(ctx, machineInspectArgs(name), &inspected); err != nil {
		return nil, err
	}
	if len(inspected) != 1 {
		return nil, fmt.Errorf("podman machine inspect %s printed %d machines", name, len(inspected))
	}
	file := inspected[0].ConfigPath.Path
	if file == "" {
		file = filepath.Join(inspected[0].ConfigDir.Path, name+".json")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("failed to read the configuration of podman machine %s: %w", name, err)
	}
	var cfg machineConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("failed to read the configuration of podman machine %s: %s: %w", name, file, err)
	}
	return &podmanMachine{Name: name, Mounts: cfg.Mounts}, nil
}

// machinePort is the local port of the connection podman uses (the one
// CONTAINER_CONNECTION names, else the default), when it is an ssh
// connection to this computer, as a machine's connections are.
func machinePort(conns []podmanConnection, named string) (int, bool) {
	for _, c := range conns {
		if named != "" && c.Name != named || named == "" && !c.Default {
			continue
		}
		u, err := url.Parse(c.URI)
		if err != nil || u.Scheme != "ssh" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
			return 0, false
		}
		port, err := strconv.Atoi(u.Port())
		return port, err == nil
	}
	return 0, false
}

// runJSON runs a podman command and decodes what it printed.
func (b *Backend) runJSON(ctx context.Context, args []string, v any) error {
	out, err := b.runner.Run(ctx, args)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("unexpected output of podman %s: %w", podmancli.ShellWords(args), err)
	}
	return nil
}

// checkMachineShares refuses host paths the start would mount that podman's
// machine does not share at the same path. Without a machine, or when
// paude cannot tell which it is, it checks nothing.
func (b *Backend) checkMachineShares(uses []hostPathUse) error {
	m, err := b.machine()
	if err != nil {
		klog.V(2).Infof("not checking the podman machine's shared directories: %v", err)
		return nil
	}
	if m == nil {
		return nil
	}
	return m.check(uses)
}
