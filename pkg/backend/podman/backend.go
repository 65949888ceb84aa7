// Package podman is paude's local backend: each session is a detached,
// hardened podman container running the agent in tmux, on an internal
// network whose only way out is a shared squid proxy container. Every
// podman call goes through a Runner, and every argv is built by a pure
// function (args.go, agent.go, proxy.go), so tests assert exact commands.
package podman

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/hostpath"
	"github.com/paude-dev/paude/pkg/podmancli"
)

// Options configure a Backend. Zero values pick the real implementation.
type Options struct {
	// Runner runs podman; nil means podmancli.ExecRunner{} (podman on PATH, with the
	// caller's CONTAINERS_CONF).
	Runner podmancli.Runner
	// Progress receives progress lines and warnings when a SessionSpec
	// carries none, and for attach and stop; nil discards them.
	Progress io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Random feeds session IDs; nil means crypto/rand.
	Random io.Reader
	// HomeDir is the user's home, where ~/.claude, ~/.claude.json,
	// ~/.gitconfig and ~/.config/gcloud are looked up; "" means
	// os.UserHomeDir (and no credentials when that fails).
	HomeDir string
	// Getenv reads the host environment (Vertex AI pass-through, TERM);
	// nil means os.Getenv.
	Getenv func(string) string
	// StateDir keeps the rendered squid.conf files the proxy mounts; ""
	// means $XDG_STATE_HOME/paude/podman or ~/.local/state/paude/podman.
	StateDir string
	// PullPolicy is podman's --pull for builds and containers ("always",
	// "missing", "never", "newer"); "" leaves podman's default (missing).
	PullPolicy string
	// User is the agent's --user ("uid:gid"); "" picks one: the owner of
	// the workspace with group 0, or DefaultUser when root owns it.
	// Rootless podman uses --userns keep-id with the same user.
	User string
	// ExternalNetwork is the network the proxy, and an --allow-network
	// agent, reach the internet through; "" means "podman".
	ExternalNetwork string
	// ProxyHosts are extra name → address entries in the proxy's
	// /etc/hosts, which squid then uses before DNS.
	ProxyHosts map[string]string
	// ProxyDNS, when set, are the proxy's DNS servers (podman --dns).
	ProxyDNS []string
	// ReadyTimeout bounds the wait for the agent's tmux session and the
	// proxy's port after a start; 0 means 60 seconds.
	ReadyTimeout time.Duration
	// Command is paude's command as the user typed it ("paude"), for the
	// hints in messages; "" means "paude".
	Command string
	// GitBridge is the command host git runs as the transport of a fetch
	// from a session (gitboundary.Fetcher.Bridge); nil means this
	// binary's own hidden bridge command.
	GitBridge []string
}

// Backend is the Podman backend. Create it with New.
type Backend struct {
	opts    Options
	runner  podmancli.Runner
	builder *podmancli.Builder

	// host describes the podman host, found out once.
	host func() hostInfo
	// machine is the podman machine podman talks to, found out once (nil:
	// none).
	machine func() (*podmanMachine, error)
	// goos is the operating system paude runs on (runtime.GOOS; tests
	// play macOS on Linux).
	goos string
}

// hostInfo is what `podman info` told us.
type hostInfo struct {
	Rootless bool
	CPUs     int
}

// New returns a Podman backend. It runs nothing: podman is checked at the
// first operation, so commands that never reach podman stay fast.
func New(opts Options) *Backend {
	if opts.Runner == nil {
		opts.Runner = podmancli.ExecRunner{}
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.HomeDir == "" {
		if h, err := os.UserHomeDir(); err == nil {
			opts.HomeDir = h
		}
	}
	if opts.StateDir == "" {
		opts.StateDir = defaultStateDir(opts.Getenv, opts.HomeDir)
	}
	// Its files are bind-mounted: podman's host must know the directory
	// by this name (on macOS, /private/tmp/x and not /tmp/x).
	opts.StateDir = hostpath.Real(opts.StateDir)
	if opts.ExternalNetwork == "" {
		opts.ExternalNetwork = DefaultExternalNetwork
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	if opts.Command == "" {
		opts.Command = "paude"
	}
	runner := podmancli.Logged(opts.Runner, missingPodman)
	b := &Backend{opts: opts, runner: runner, goos: runtime.GOOS,
		builder: &podmancli.Builder{Runner: runner, PullPolicy: opts.PullPolicy, Now: opts.Now}}
	b.host = sync.OnceValue(b.detectHost)
	b.machine = sync.OnceValues(b.detectMachine)
	return b
}

// defaultStateDir follows the XDG base directory rules, with a directory
// in the temporary directory when there is no home.
func defaultStateDir(getenv func(string) string, home string) string {
	d, err := hostpath.State.In(getenv, home)
	if err != nil {
		return filepath.Join(os.TempDir(), "paude-podman")
	}
	return filepath.Join(d, "paude", "podman")
}

// Type implements backend.Backend.
func (b *Backend) Type() backend.Type { return backend.Podman }

// hostInfo is what the podman host is like. It costs nothing when podman
// runs on this Linux machine; a remote podman (a Podman machine,
// CONTAINER_HOST) is asked once, on the first use, and an answer that
// does not come is taken as podman's defaults for this machine: the
// commands that follow report what is wrong with podman.
func (b *Backend) hostInfo() hostInfo { return b.host() }

// detectHost describes the podman host.
func (b *Backend) detectHost() hostInfo {
	local := hostInfo{Rootless: os.Geteuid() != 0, CPUs: runtime.NumCPU()}
	if b.localPodman() {
		return local
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := b.runner.Run(ctx, infoArgs())
	if err != nil {
		return local
	}
	info, err := parseInfo(string(out))
	if err != nil {
		return local
	}
	return *info
}

func parseInfo(out string) (*hostInfo, error) {
	f := strings.Fields(out)
	if len(f) != 2 {
		return nil, errors.New("expected \"<rootless> <cpus>\"")
	}
	rootless, err := strconv.ParseBool(f[0])
	if err != nil {
		return nil, fmt.Errorf("rootless: %w", err)
	}
	cpus, err := strconv.Atoi(f[1])
	if err != nil {
		return nil, fmt.Errorf("cpus: %w", err)
	}
	return &hostInfo{Rootless: rootless, CPUs: cpus}, nil
}

// unavailable words a failure of the first podman command (podman
// missing, or broken on this machine) as an UnavailableError, with
// podman's own message and the fix that usually helps.
func unavailable(err error) error {
	if backend.IsUnavailable(err) {
		return err
	}
	if errors.Is(err, podmancli.ErrPodmanNotFound) {
		return &backend.UnavailableError{Backend: backend.Podman,
			Reason: "podman is not installed (no 'podman' on PATH)",
			Hint:   "install Podman 4 or later (apt-get install podman, dnf install podman, brew install podman) or use --backend=openshift"}
	}
	var ee *podmancli.ExitError
	if !errors.As(err, &ee) {
		return &backend.UnavailableError{Backend: backend.Podman, Reason: err.Error(),
			Hint: "run 'podman info' to see what is wrong"}
	}
	stderr := ee.Stderr
	if stderr == "" {
		stderr = fmt.Sprintf("exit code %d", ee.Code)
	}
	return &backend.UnavailableError{Backend: backend.Podman,
		Reason: "podman does not work: " + stderr, Hint: podmanHint(stderr)}
}

// withHint adds the usual fix to a podman failure that has a well-known
// cause (resource limits, runtime, rootless setup); others are returned
// as they are.
func withHint(err error) error {
	var ee *podmancli.ExitError
	if !errors.As(err, &ee) || ee.Stderr == "" {
		return err
	}
	if hint := knownCause(ee.Stderr); hint != "" {
		return fmt.Errorf("%w: %s", err, hint)
	}
	return err
}

// defaultHint is podmanHint's answer for a failure it does not know.
const defaultHint = "run 'podman info' to see the full error"

// podmanHint maps a failure of podman itself to its usual fix.
func podmanHint(stderr string) string {
	if hint := knownCause(stderr); hint != "" {
		return hint
	}
	s := strings.ToLower(stderr)
	switch {
	case strings.Contains(s, "podman machine") || strings.Contains(s, "unable to connect to podman") || strings.Contains(s, "cannot connect to podman"):
		return "start the Podman virtual machine with 'podman machine start' (once, before the first start: 'podman machine init')"
	case strings.Contains(s, "permission denied"):
		return "check that your user may run podman (rootless needs subordinate IDs; rootful needs root)"
	default:
		return defaultHint
	}
}

// missingPodman words a missing podman as the UnavailableError it is,
// whichever command found out.
func missingPodman(err error) error {
	if errors.Is(err, podmancli.ErrPodmanNotFound) {
		return unavailable(err)
	}
	return err
}

// hint is a command for the user to run, as they would type it:
// hint("stop x") is "'<command> stop x'" with the command as typed.
func (b *Backend) hint(args string) string {
	if args == "" {
		return "'" + b.opts.Command + "'"
	}
	return "'" + b.opts.Command + " " + args + "'"
}

// knownCause names the fix of a failure whose cause is unambiguous in
// its message, "" for any other.
func knownCause(stderr string) string {
	s := strings.ToLower(stderr)
	switch {
	case strings.Contains(s, "rlimit"):
		return "podman cannot set its default resource limits here: set default_ulimits in a containers.conf and point CONTAINERS_CONF at it (see docs/PODMAN.md)"
	case strings.Contains(s, "crun") && strings.Contains(s, "cgroup"):
		return "crun does not support this cgroup setup: set runtime = \"runc\" in the [engine] section of containers.conf"
	case strings.Contains(s, "statfs") && strings.Contains(s, "no such file or directory"):
		return "a directory paude mounts does not exist where podman runs: with a podman machine (macOS), it must be below a directory the machine shares (see docs/PODMAN.md, macOS)"
	case strings.Contains(s, "newuidmap") || strings.Contains(s, "subuid") || strings.Contains(s, "subgid"):
		return "rootless podman needs subordinate IDs: add your user to /etc/subuid and /etc/subgid, then run 'podman system migrate'"
	default:
		return ""
	}
}

// progress is where a start reports: its own writer, else the backend's.
func (b *Backend) progress(w io.Writer) io.Writer {
	if w != nil {
		return w
	}
	return b.opts.Progress
}
