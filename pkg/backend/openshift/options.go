package openshift

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/utils/clock"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/helperbin"
	"github.com/paude-dev/paude/pkg/hostpath"
	"github.com/paude-dev/paude/pkg/podmancli"
	psync "github.com/paude-dev/paude/pkg/sync"
)

// Options configures a Backend. Only ConfigFlags is required; every other
// field has a default suitable for real use.
type Options struct {
	// ConfigFlags supplies the kubeconfig, context and namespace flags
	// (a *genericclioptions.ConfigFlags in the command tree). The
	// namespace comes only from its ToRawKubeConfigLoader().Namespace().
	ConfigFlags genericclioptions.RESTClientGetter
	// Config is the project's resolved configuration; nil means the
	// built-in defaults. It supplies backend.namespace, resources, the
	// workspace volume, timeouts and env for commands that do not get
	// StartOptions (attach's resume, stop, cleanup).
	Config *config.Config
	// Progress receives progress lines (stderr in the command tree);
	// nil discards them.
	Progress io.Writer
	// Warnings receives warnings such as "input is not a terminal"; nil
	// means Progress.
	Warnings io.Writer
	// Clock gives the current time; nil means the real clock.
	Clock clock.PassiveClock
	// Home is the user's home directory, the root for credentials;
	// "" means os.UserHomeDir().
	Home string
	// Getenv reads the host environment (Vertex AI pass-through); nil
	// means os.Getenv.
	Getenv func(string) string
	// Random feeds session IDs; nil means crypto/rand.
	Random io.Reader
	// Clients overrides how API clients are built (tests use fakes);
	// nil means from ConfigFlags.
	Clients ClientFactory
	// Executor runs commands in pods; nil means the WebSocket executor
	// with SPDY fallback.
	Executor Executor
	// Command is paude's command as the user typed it ("kubectl paude",
	// "oc paude"), for the hints in messages; "" means "kubectl paude".
	Command string
	// Registry is --registry: where the session's images are pushed,
	// before backend.registry and OpenShift's integrated registry.
	Registry string
	// RegistryInsecure is --registry-insecure: no TLS verification of
	// the registry.
	RegistryInsecure bool
	// Podman runs podman for image builds and pushes; nil means
	// podman on PATH.
	Podman podmancli.Runner
	// PullPolicy is podman's --pull for builds ("" = podman's default).
	PullPolicy string
	// CacheDir keeps each registry's podman auth file and CA between
	// starts; "" means $XDG_CACHE_HOME/paude or ~/.cache/paude, on macOS
	// too.
	CacheDir string
	// HostArch is the architecture podman builds for natively; "" means
	// this machine's (runtime.GOARCH).
	HostArch string
	// HostOS is the operating system paude runs on; "" means
	// runtime.GOOS. Elsewhere than on Linux podman pushes from its
	// machine, which does not read --cert-dir.
	HostOS string
	// BinfmtDir is where Linux lists the emulators it runs binaries of
	// other architectures with; "" means /proc/sys/fs/binfmt_misc.
	BinfmtDir string
	// EgressCheckSeconds bounds how long a session pod waits for its
	// egress policy to be enforced; 0 means 60 seconds.
	EgressCheckSeconds int
	// Helpers gives the Linux paude binary for an architecture, which the
	// agent image carries as its sync helper; nil means helperbin.For.
	Helpers func(arch string) (*helperbin.Binary, error)
	// NewSyncer makes the workspace sync engine; nil means sync.New.
	NewSyncer func(method string, o psync.Options) (psync.Syncer, error)
}

// Backend is the OpenShift/Kubernetes backend. It implements
// backend.Backend; create it with New.
type Backend struct {
	opts   Options
	cfg    *config.Config
	podman podmancli.Runner

	// regMu guards reg, the registry found for this command.
	regMu sync.Mutex
	reg   *registryTarget
	// firewallNote says once that the cluster has no EgressFirewall.
	firewallNote sync.Once

	once    sync.Once
	clients *Clients
	errInit error
}

var (
	_ backend.Backend    = (*Backend)(nil)
	_ backend.Setupper   = (*Backend)(nil)
	_ backend.Cleaner    = (*Backend)(nil)
	_ backend.DryRunner  = (*Backend)(nil)
	_ backend.AllStopper = (*Backend)(nil)
)

// New returns a Backend. It does not contact the cluster: connection and
// credential problems surface on the first command that needs the API.
func New(opts Options) (*Backend, error) {
	if opts.ConfigFlags == nil && opts.Clients == nil {
		return nil, fmt.Errorf("openshift backend needs kubeconfig flags: pass Options.ConfigFlags")
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Warnings == nil {
		opts.Warnings = opts.Progress
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Home == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("failed to find the home directory: %w: set HOME", err)
		}
		opts.Home = home
	}
	if opts.Clients == nil {
		opts.Clients = &FlagsClientFactory{Flags: opts.ConfigFlags}
	}
	if opts.Executor == nil {
		opts.Executor = StreamExecutor{}
	}
	if opts.Command == "" {
		opts.Command = "kubectl paude"
	}
	if opts.Podman == nil {
		opts.Podman = podmancli.ExecRunner{}
	}
	if opts.CacheDir == "" {
		if dir, err := hostpath.Cache.Dir(); err == nil {
			opts.CacheDir = filepath.Join(dir, "paude")
		} else {
			opts.CacheDir = filepath.Join(opts.Home, ".cache", "paude")
		}
	}
	if opts.HostArch == "" {
		opts.HostArch = runtime.GOARCH
	}
	if opts.HostOS == "" {
		opts.HostOS = runtime.GOOS
	}
	if opts.Helpers == nil {
		opts.Helpers = helperbin.For
	}
	if opts.BinfmtDir == "" {
		opts.BinfmtDir = "/proc/sys/fs/binfmt_misc"
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	return &Backend{opts: opts, cfg: cfg, podman: podmancli.Logged(opts.Podman, nil)}, nil
}

// Type reports backend.OpenShift.
func (b *Backend) Type() backend.Type { return backend.OpenShift }

// hint is a command for the user to run, as they would type it:
// hint("stop x") is "`kubectl paude stop x`".
func (b *Backend) hint(args string) string {
	if args == "" {
		return "`" + b.opts.Command + "`"
	}
	return "`" + b.opts.Command + " " + args + "`"
}

// progressf writes one progress line.
func (b *Backend) progressf(format string, args ...any) {
	fmt.Fprintf(b.opts.Progress, format+"\n", args...)
}
