// Package plugin is paude's command tree, shared by the standalone `paude`
// binary and the `kubectl-paude` plugin. Each command follows the kubectl
// pattern: an Options struct, NewCmdX, and RunE calling Complete, Validate
// and Run. Nothing below this package imports cobra.
package plugin

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/progress"
)

// Flavor says which binary the command tree is serving.
type Flavor struct {
	// Binary is the executable's name ("paude", "kubectl-paude").
	Binary string
	// DisplayName is how help spells the command ("paude", "kubectl paude").
	DisplayName string
	// DefaultBackend is used when --backend is not given.
	DefaultBackend backend.Type
	// LegacyFlags adds --openshift-context and --openshift-namespace.
	LegacyFlags bool
}

// Standalone is the `paude` binary: Podman by default.
var Standalone = Flavor{Binary: "paude", DisplayName: "paude", DefaultBackend: backend.Podman, LegacyFlags: true}

// KubectlPlugin is the `kubectl-paude` binary: OpenShift/Kubernetes by default.
var KubectlPlugin = Flavor{Binary: "kubectl-paude", DisplayName: "kubectl paude", DefaultBackend: backend.OpenShift}

// InvokedAs returns the flavor for the name the binary was run as
// (argv[0]): kubectl runs a plugin as kubectl-paude and oc as oc-paude,
// or the user renamed it, and help and hints must name the command they
// typed ("oc paude stop", "kubectl paude stop", "paude stop").
func (f Flavor) InvokedAs(argv0 string) Flavor {
	name := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	if name == "" || name == "." || name == string(filepath.Separator) {
		return f
	}
	f.Binary = name
	f.DisplayName = name
	for _, host := range []string{"kubectl", "oc"} {
		if plugin, ok := strings.CutPrefix(name, host+"-"); ok && plugin != "" {
			// kubectl spells a dash in a plugin's name as '_'.
			f.DisplayName = host + " " + strings.ReplaceAll(plugin, "_", "-")
		}
	}
	return f
}

// RootOptions are the flags every command shares.
type RootOptions struct {
	Flavor  Flavor
	Streams genericiooptions.IOStreams

	// BackendName is the raw --backend value.
	BackendName string
	// KubeFlags are kubectl's own connection flags (--context, -n, ...).
	KubeFlags *genericclioptions.ConfigFlags
	// OpenShiftContext and OpenShiftNamespace are the task list's names
	// for --context and --namespace; they feed KubeFlags.
	OpenShiftContext   string
	OpenShiftNamespace string
	// Registry and RegistryInsecure are where cluster images are pushed,
	// and whether its TLS is checked.
	Registry         string
	RegistryInsecure bool
	// Quiet silences progress (--quiet); warnings and errors still print.
	Quiet bool

	// NewBackend builds a backend; tests replace it with a fake.
	NewBackend func(o *RootOptions, t backend.Type) (backend.Backend, error)

	// config is the project configuration once loaded (start loads it
	// strictly; other commands lazily, see projectConfig).
	config *config.Config
	// configLoaded records that projectConfig ran (config may be nil).
	configLoaded bool
	// progress is Progress's Reporter, made on first use.
	progress *progress.Reporter
}

// NewRootOptions returns RootOptions with the real backend factory.
func NewRootOptions(streams genericiooptions.IOStreams, flavor Flavor) *RootOptions {
	return &RootOptions{
		Flavor:     flavor,
		Streams:    streams,
		KubeFlags:  genericclioptions.NewConfigFlags(true),
		NewBackend: newBackend,
	}
}

// NewRootCmd builds the whole command tree for one binary.
func NewRootCmd(streams genericiooptions.IOStreams, flavor Flavor) *cobra.Command {
	return NewRootCmdWithOptions(NewRootOptions(streams, flavor))
}

// NewRootCmdWithOptions builds the tree around prepared options (tests use
// it to plug in fake backends).
func NewRootCmdWithOptions(root *RootOptions) *cobra.Command {
	start := NewStartOptions(root)
	name := root.Flavor.DisplayName
	cmd := &cobra.Command{
		Use:   root.Flavor.Binary + " [flags] [-- AGENT ARGS...]",
		Short: "Run an AI coding agent in an isolated container whose only way out is an allowlisting proxy",
		Long: fmt.Sprintf(longDesc(`
			%[1]s runs an AI coding agent (Claude Code by default) in a container
			whose only network path is an allowlisting proxy, locally with Podman or
			on OpenShift/Kubernetes. The agent lives in tmux, so the session survives
			a closed terminal: detach with C-b d and come back with '%[1]s attach'.

			Without a subcommand, %[1]s starts a session for the current directory,
			or reattaches to the one already running for it. Configuration comes from
			.devcontainer/devcontainer.json, .devcontainer.json or paude.json (JSONC).`), name),
		Example: templates.Examples(fmt.Sprintf(`
			# Start (or reattach to) a session for the current directory
			%[1]s

			# See what would be built and run, without starting anything
			%[1]s --dry-run

			# Pass arguments to the agent
			%[1]s -- --model opus

			# List sessions, reattach to the most recent, stop one
			%[1]s sessions
			%[1]s attach
			%[1]s stop 1764270000-3f2a9c1d`, name)),
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: name},
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          start.args,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := start.Complete(cmd, args); err != nil {
				return err
			}
			if err := start.Validate(); err != nil {
				return err
			}
			return start.Run(cmd.Context())
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &UsageError{Msg: err.Error(), Command: displayPath(c, root)}
	})
	cmd.SetIn(root.Streams.In)
	cmd.SetOut(root.Streams.Out)
	cmd.SetErr(root.Streams.ErrOut)
	root.addFlags(cmd.PersistentFlags())
	start.AddFlags(cmd.Flags())

	cmd.AddCommand(
		NewCmdAttach(root),
		NewCmdSessions(root),
		NewCmdStop(root),
		NewCmdSetup(root),
		NewCmdCleanup(root),
		NewCmdVersion(root.Streams, root),
		NewCmdTrust(root),
		NewCmdSync(root),
		NewCmdSyncAgent(root),
		newCmdGitBridge(root),
	)
	for _, sub := range cmd.Commands() {
		sub.SilenceUsage = true
		sub.SilenceErrors = true
	}
	registerCompletions(root, cmd)
	return cmd
}

func (o *RootOptions) addFlags(flags *pflag.FlagSet) {
	choices := make([]string, len(backend.Types))
	for i, t := range backend.Types {
		choices[i] = string(t)
	}
	flags.StringVar(&o.BackendName, "backend", string(o.Flavor.DefaultBackend),
		"where the session runs: "+strings.Join(choices, " or "))
	o.KubeFlags.AddFlags(flags)
	flags.StringVar(&o.Registry, "registry", "",
		"registry for cluster sessions' images (host[:port][/path]); default: backend.registry, else OpenShift's integrated registry")
	flags.BoolVar(&o.RegistryInsecure, "registry-insecure", false,
		"do not verify the registry's TLS certificate (cluster sessions; unsafe, says so)")
	flags.BoolVarP(&o.Quiet, "quiet", "q", false,
		"print no progress (bars on a terminal, step lines otherwise); warnings and errors still print")
	addVerbosityFlag(flags)
	if o.Flavor.LegacyFlags {
		flags.StringVar(&o.OpenShiftContext, "openshift-context", "",
			"kubeconfig context for --backend=openshift (same as --context)")
		flags.StringVar(&o.OpenShiftNamespace, "openshift-namespace", "",
			"namespace for --backend=openshift (same as --namespace)")
	}
}

// Progress is where long steps and progress messages go: stderr, as bars
// on a terminal, lines otherwise, nothing with --quiet.
func (o *RootOptions) Progress() *progress.Reporter {
	if o.progress == nil {
		o.progress = progress.ForTerminal(o.Streams.ErrOut, o.Quiet)
	}
	return o.progress
}

// Backend validates --backend and builds the chosen backend.
func (o *RootOptions) Backend() (backend.Backend, error) {
	t, err := o.BackendType()
	if err != nil {
		return nil, err
	}
	return o.NewBackend(o, t)
}

// BackendType validates --backend. An unknown name is a usage error that
// lists the choices.
func (o *RootOptions) BackendType() (backend.Type, error) {
	for _, t := range backend.Types {
		if string(t) == o.BackendName {
			return t, nil
		}
	}
	choices := make([]string, len(backend.Types))
	for i, t := range backend.Types {
		choices[i] = string(t)
	}
	return "", &UsageError{
		Msg:     fmt.Sprintf("unknown backend %q: choose one of %s", o.BackendName, strings.Join(choices, ", ")),
		Command: o.Flavor.DisplayName,
	}
}

// applyLegacyFlags folds --openshift-context/--openshift-namespace into
// the ConfigFlags, refusing contradictory pairs.
func (o *RootOptions) applyLegacyFlags() error {
	pairs := []struct {
		legacy, name string
		target       *string
	}{
		{o.OpenShiftContext, "context", o.KubeFlags.Context},
		{o.OpenShiftNamespace, "namespace", o.KubeFlags.Namespace},
	}
	for _, p := range pairs {
		if p.legacy == "" || p.target == nil {
			continue
		}
		if *p.target != "" && *p.target != p.legacy {
			return &UsageError{
				Msg:     fmt.Sprintf("--openshift-%s=%q contradicts --%s=%q: give one of them", p.name, p.legacy, p.name, *p.target),
				Command: o.Flavor.DisplayName,
			}
		}
		*p.target = p.legacy
	}
	return nil
}

// displayPath is the command as the user typed it: "kubectl paude
// attach", "oc paude attach", "paude attach".
func displayPath(c *cobra.Command, root *RootOptions) string {
	var words []string
	for cmd := c; cmd != nil && cmd.HasParent(); cmd = cmd.Parent() {
		words = append([]string{cmd.Name()}, words...)
	}
	return strings.Join(append([]string{root.Flavor.DisplayName}, words...), " ")
}

// addVerbosityFlag adds klog's -v: at 4 the podman commands the local
// backend runs (values hidden as in --dry-run), at 6 and above the API
// requests the cluster backend makes, as kubectl logs them.
func addVerbosityFlag(flags *pflag.FlagSet) {
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	v := pflag.PFlagFromGoFlag(klogFlags.Lookup("v"))
	v.Shorthand = "v"
	v.Usage = "log verbosity: 4 shows the podman commands paude runs, 6 the API requests (8 also their bodies, with Secret data)"
	flags.AddFlag(v)
}

// noArgs rejects positional arguments as a usage error (exit 2).
func noArgs(root *RootOptions) cobra.PositionalArgs {
	return maxArgs(root, 0)
}

// maxArgs allows up to n positional arguments.
func maxArgs(root *RootOptions, n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > n {
			return &UsageError{
				Msg:     fmt.Sprintf("unexpected argument %q", args[n]),
				Command: displayPath(c, root),
			}
		}
		return nil
	}
}

// longDesc dedents a help text written as an indented raw string and keeps
// its paragraphs. (kubectl's templates.LongDesc reflows through a markdown
// renderer that indents every paragraph after the first.)
func longDesc(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t ")
	}
	return strings.Join(lines, "\n")
}
