package plugin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	"golang.org/x/term"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/trust"
)

// TrustOptions are `paude trust [DIR]`'s.
type TrustOptions struct {
	root *RootOptions

	// Yes trusts without asking, for scripts.
	Yes bool
	// Revoke forgets the workspace's trust.
	Revoke bool

	dir   string
	cfg   *config.Config
	store *trust.Store
	// newStore opens the trust store; tests keep the default, which
	// follows XDG_CONFIG_HOME.
	newStore func() (*trust.Store, error)
}

// NewCmdTrust shows a workspace's configuration and records the user's
// trust in it.
func NewCmdTrust(root *RootOptions) *cobra.Command {
	o := &TrustOptions{root: root, newStore: trust.DefaultStore}
	name := root.Flavor.DisplayName
	cmd := &cobra.Command{
		Use:   "trust [DIR]",
		Short: "Review a workspace's configuration and trust it (default: the current directory)",
		Long: longDesc(`
			Show what a workspace's paude.json or devcontainer.json lets a session do
			(the network allowlist, environment and host variables, the image build,
			setup commands, namespace and registry) and, once you confirm, record that
			you trust it. A start uses a configuration only when it is trusted: a cloned
			repository's configuration was written by someone else, and an agent can
			edit it. When the configuration or a build input changed since you trusted
			it, the changes are shown. A workspace without a configuration file needs no
			trust.`),
		Example: templates.Examples(fmt.Sprintf(`
			# Review and trust the current directory's configuration
			%[1]s trust

			# Trust a checkout without asking (for scripts)
			%[1]s trust --yes ~/src/project

			# Forget the trust
			%[1]s trust --revoke`, name)),
		Args: maxArgs(root, 1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "trust without asking")
	cmd.Flags().BoolVar(&o.Revoke, "revoke", false, "forget the trust in the workspace's configuration")
	return cmd
}

// Complete resolves the workspace and opens the trust store.
func (o *TrustOptions) Complete(_ *cobra.Command, args []string) error {
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("failed to resolve the workspace path %q: %w", dir, err)
	}
	o.dir = abs
	o.store, err = o.newStore()
	return err
}

// Validate checks the flags and that the workspace is a directory, then
// loads its configuration: one with errors cannot be trusted until fixed.
func (o *TrustOptions) Validate() error {
	if o.Yes && o.Revoke {
		return &UsageError{Msg: "give --yes or --revoke, not both", Command: trustCommand(o.root)}
	}
	info, err := os.Stat(o.dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("workspace %s does not exist: give the directory of a project", o.dir)
	case err != nil:
		return fmt.Errorf("failed to read workspace %s: %w", o.dir, err)
	case !info.IsDir():
		return fmt.Errorf("workspace %s is not a directory: give the directory of a project", o.dir)
	}
	if o.Revoke {
		return nil
	}
	o.cfg, err = config.Load(o.dir)
	return err
}

// Run shows the configuration and records the trust, or forgets it.
func (o *TrustOptions) Run() error {
	errOut := o.root.Streams.ErrOut
	if o.Revoke {
		had, err := o.store.Revoke(o.dir)
		if err != nil {
			return err
		}
		if had {
			_, _ = fmt.Fprintf(errOut, "Forgot the trust in the configuration of %s\n", o.dir)
		} else {
			_, _ = fmt.Fprintf(errOut, "The configuration of %s was not trusted\n", o.dir)
		}
		return nil
	}
	in, err := trustInputs(o.cfg)
	if err != nil {
		return err
	}
	st, err := o.store.Check(in)
	if err != nil {
		return err
	}
	if err := st.Report(o.root.Streams.Out); err != nil {
		return fmt.Errorf("failed to show the configuration: %w", err)
	}
	if !st.NeedsTrust() {
		return nil
	}
	if !o.Yes {
		yes, err := trust.Ask(o.root.Streams.In, errOut, "\nTrust this configuration? [y/N] ")
		if err != nil {
			return err
		}
		if !yes {
			return fmt.Errorf("the configuration of %s was not trusted: nothing was recorded; answer y to trust it, or pass --yes", o.dir)
		}
	}
	if err := o.store.Trust(st); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(errOut, "Trusted the configuration of %s\n", o.dir)
	return nil
}

// trustCommand is the trust command as the user types it.
func trustCommand(root *RootOptions) string {
	return root.Flavor.DisplayName + " trust"
}

// ensureTrusted is the start's trust gate: it returns nil when the
// workspace's configuration needs no trust or is trusted, asks on a
// terminal otherwise, and refuses without one.
func ensureTrusted(root *RootOptions, cfg *config.Config) error {
	in, err := trustInputs(cfg)
	if err != nil {
		return err
	}
	store, err := trust.DefaultStore()
	if err != nil {
		return err
	}
	s := root.Streams
	return trust.Ensure(store, in, trust.Prompt{
		In: s.In, Out: s.ErrOut,
		Terminal:     isTerminalStream(s.In) && isTerminalStream(s.ErrOut),
		TrustCommand: trustCommand(root),
	})
}

// isTrusted reports whether cfg needs no trust or is trusted, asking
// nothing.
func isTrusted(cfg *config.Config) (bool, error) {
	in, err := trustInputs(cfg)
	if err != nil {
		return false, err
	}
	store, err := trust.DefaultStore()
	if err != nil {
		return false, err
	}
	st, err := store.Check(in)
	if err != nil {
		return false, err
	}
	return !st.NeedsTrust(), nil
}

// isTerminalStream reports whether a stream is a terminal device.
func isTerminalStream(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// localEnvRef finds the host variables a value takes with
// ${localEnv:NAME} or ${localEnv:NAME:default}. config keeps the same
// pattern unexported; share it once config exports it.
var localEnvRef = regexp.MustCompile(`\$\{localEnv:([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}`)

// trustInputs turns a loaded configuration into what trust is decided on:
// the file, the build inputs (the build context, the pip_install files)
// and the summary.
func trustInputs(cfg *config.Config) (trust.Inputs, error) {
	in := trust.Inputs{Workspace: cfg.Workspace, ConfigPath: cfg.Path}
	if cfg.Path == "" {
		return in, nil
	}
	written, err := writtenValues(cfg)
	if err != nil {
		return in, err
	}
	s := trust.Summary{
		AllowedDomains: cfg.Network.AllowedDomains,
		ProviderHosts:  !cfg.Network.AllowedDomainsSet || cfg.Network.ExtendDefaults,
		ClusterDNS:     cfg.Network.ClusterDNS,
		Env:            vars(written.Env),
		Packages:       cfg.Packages,
		Setup:          cfg.Setup,
		AgentCommand:   append([]string{cfg.Agent.Command}, cfg.Agent.Args...),
		Namespace:      cfg.Backend.Namespace,
		Registry:       cfg.Backend.Registry,
	}
	if cfg.Agent.Install != config.DefaultAgentInstall {
		s.AgentInstall = cfg.Agent.Install
	}
	if cfg.Sync.Method == config.SyncDevSpace {
		s.SyncMethod = trust.RiskySyncMethod
	}
	if b := cfg.Build; b != nil {
		s.Build = &trust.Build{Dockerfile: b.Dockerfile, Context: b.Context}
		if written.Build != nil {
			s.Build.Args = vars(written.Build.Args)
		}
		in.Files = append(in.Files, b.Context)
	} else {
		s.BaseImage = string(cfg.Base)
	}
	if cfg.PipInstall {
		// Both are inputs: pip installs from the first that exists, and
		// either appearing or changing changes what it installs.
		for _, name := range []string{"requirements.txt", "pyproject.toml"} {
			p := filepath.Join(cfg.Workspace, name)
			in.Files = append(in.Files, p)
			if s.PipInstall == "" {
				if _, err := os.Stat(p); err == nil {
					s.PipInstall = name
				}
			}
		}
		if s.PipInstall == "" {
			s.PipInstall = "requirements.txt or pyproject.toml (neither exists yet)"
		}
	}
	in.Summary = s
	return in, nil
}

// written are the env values and build args as the file writes them, with
// ${localEnv:...} unexpanded: the host's values are not the file's, and
// must not be shown or stored.
type written struct {
	Env   map[string]string `yaml:"env"`
	Build *struct {
		Args map[string]string `yaml:"args"`
	} `yaml:"build"`
}

// writtenValues reads them from the configuration's resolved view, the
// only place config hands them out; read them directly once config
// exports them.
func writtenValues(cfg *config.Config) (*written, error) {
	data, err := cfg.Resolved()
	if err != nil {
		return nil, err
	}
	var w written
	if err := yaml.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("failed to read the configuration's env values: %w", err)
	}
	return &w, nil
}

// vars lists a map's variables by name, with the host variables each
// takes.
func vars(m map[string]string) []trust.Var {
	out := make([]trust.Var, 0, len(m))
	for name, value := range m {
		v := trust.Var{Name: name, Value: value}
		for _, ref := range localEnvRef.FindAllStringSubmatch(value, -1) {
			v.HostVars = append(v.HostVars, ref[1])
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
