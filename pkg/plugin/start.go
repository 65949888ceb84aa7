package plugin

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/paude-dev/paude/pkg/hostpath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// StartOptions are the root command's: start a session for the current
// workspace, or reattach to the one running for it.
type StartOptions struct {
	root *RootOptions

	AllowNetwork bool
	Yolo         bool
	Rebuild      bool
	DryRun       bool
	Detach       bool
	Image        string
	AgentArgs    []string

	workspace string
	cfg       *config.Config
	backend   backend.Type
}

// NewStartOptions returns StartOptions bound to the shared root options.
func NewStartOptions(root *RootOptions) *StartOptions {
	return &StartOptions{root: root}
}

// AddFlags registers the start flags on the root command only.
func (o *StartOptions) AddFlags(flags *pflag.FlagSet) {
	flags.BoolVar(&o.AllowNetwork, "allow-network", false,
		"give the agent direct network access: no proxy, no allowlist (unsafe)")
	flags.BoolVar(&o.Yolo, "yolo", false,
		"let the agent act without asking for permission (Claude Code's --dangerously-skip-permissions)")
	flags.BoolVar(&o.Rebuild, "rebuild", false, "rebuild images even when an up-to-date one exists")
	flags.BoolVar(&o.DryRun, "dry-run", false,
		"print the configuration, Containerfile, squid.conf and the steps that would run; start nothing")
	flags.StringVar(&o.Image, "image", "", "use this image instead of building one from the configuration")
	flags.BoolVarP(&o.Detach, "detach", "d", false,
		"start the session (or find the one running for this workspace), wait until the agent is ready, print its ID and exit without attaching")
}

// args accepts positional arguments only after "--": they go to the agent.
func (o *StartOptions) args(c *cobra.Command, args []string) error {
	dash := c.ArgsLenAtDash()
	if dash < 0 && len(args) > 0 || dash > 0 {
		return &UsageError{
			Msg:     fmt.Sprintf("unknown command %q: pass agent arguments after --", args[0]),
			Command: o.root.Flavor.DisplayName,
		}
	}
	return nil
}

// Complete resolves the workspace and loads its configuration.
func (o *StartOptions) Complete(c *cobra.Command, args []string) error {
	if c.ArgsLenAtDash() >= 0 {
		o.AgentArgs = args
	}
	if err := o.root.applyLegacyFlags(); err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("failed to find the current directory: %w", err)
	}
	// One name per directory: the session's labels, the check for a
	// session already running here, trust records and podman's mounts
	// all see the directory's real name, however the shell reached it
	// (a symlink, /tmp on macOS, "cd ~/src/PROJ" on a case-insensitive
	// disk).
	o.workspace = hostpath.Real(wd)
	o.cfg, err = config.Load(o.workspace)
	if err != nil {
		return err
	}
	o.root.config = o.cfg
	for _, w := range o.cfg.Warnings {
		_, _ = fmt.Fprintf(o.root.Streams.ErrOut, "warning: %s\n", w)
	}
	return nil
}

// Validate checks the backend choice and the flags that go together.
func (o *StartOptions) Validate() error {
	t, err := o.root.BackendType()
	if err != nil {
		return err
	}
	o.backend = t
	if o.Detach && o.DryRun {
		return &UsageError{Msg: "--detach and --dry-run do not go together: --dry-run starts nothing", Command: o.root.Flavor.DisplayName}
	}
	return nil
}

// sessionSpec is the backend-facing form of these options.
func (o *StartOptions) sessionSpec() backend.SessionSpec {
	return backend.SessionSpec{
		Config:       o.cfg,
		Workspace:    o.workspace,
		Image:        o.Image,
		AgentArgs:    o.AgentArgs,
		Yolo:         o.Yolo,
		AllowNetwork: o.AllowNetwork,
		Rebuild:      o.Rebuild,
		Progress:     o.root.Progress(),
	}
}

// Run starts or reattaches, then attaches and returns the agent's exit code
// as an *ExitError when it is not zero. With --detach it prints the
// session's ID on Out instead of attaching.
func (o *StartOptions) Run(ctx context.Context) error {
	if o.DryRun {
		return o.runDryRun(ctx)
	}
	if err := backend.CheckWorkspacePath(o.workspace, homeDir()); err != nil {
		return err
	}
	b, err := o.root.NewBackend(o.root, o.backend)
	if err != nil {
		return err
	}
	sessions, err := b.ListSessions(ctx)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		// A pending session (a pod still pulling its image) is as good as
		// running: attach waits for it rather than starting a second one.
		if s.Workspace == o.workspace && (s.Status == backend.StatusRunning || s.Status == backend.StatusPending) {
			if o.Detach {
				return o.printWhenReady(ctx, b, s)
			}
			_, _ = fmt.Fprintf(o.root.Streams.ErrOut,
				"Reattaching to session %s, already %s for %s (flags for a new session are ignored; '%s stop %s' first to change them)\n",
				s.ID, s.Status, o.workspace, o.root.Flavor.DisplayName, s.ID)
			return attach(ctx, b, s.ID, o.root)
		}
	}
	// A configuration paude has not seen (a cloned repository's, or one
	// the agent edited) is shown and needs the user's yes first.
	if err := ensureTrusted(o.root, o.cfg); err != nil {
		return err
	}
	o.printNetworkWarning()
	o.printSyncWarning()
	s, err := b.StartSession(ctx, o.sessionSpec())
	if err != nil {
		return err
	}
	if o.Detach {
		_, _ = fmt.Fprintf(o.root.Streams.ErrOut, "Started session %s (attach with '%s attach %s')\n",
			s.ID, o.root.Flavor.DisplayName, s.ID)
		_, err := fmt.Fprintln(o.root.Streams.Out, s.ID)
		return err
	}
	_, _ = fmt.Fprintf(o.root.Streams.ErrOut, "Started session %s (detach with C-b d, reattach with '%s attach %s')\n",
		s.ID, o.root.Flavor.DisplayName, s.ID)
	return attach(ctx, b, s.ID, o.root)
}

// readyPoll is how often --detach looks at a pending session.
const readyPoll = time.Second

// printWhenReady is --detach for a session that already exists: it waits
// while the session is pending (a pod pulling its image), for at most the
// configured start timeout, then prints its ID.
func (o *StartOptions) printWhenReady(ctx context.Context, b backend.Backend, s backend.Session) error {
	deadline := time.Now().Add(o.cfg.Backend.StartTimeout)
	for s.Status == backend.StatusPending {
		if time.Now().After(deadline) {
			return fmt.Errorf("session %s is still pending after %s (%s): see '%s sessions'", s.ID, o.cfg.Backend.StartTimeout, s.Reason, o.root.Flavor.DisplayName)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(readyPoll):
		}
		sessions, err := b.ListSessions(ctx)
		if err != nil {
			return err
		}
		found := false
		for _, x := range sessions {
			if x.ID == s.ID {
				s, found = x, true
			}
		}
		if !found {
			return fmt.Errorf("session %s went away while it was starting: start again", s.ID)
		}
	}
	if s.Status != backend.StatusRunning {
		return fmt.Errorf("session %s is %s (%s): '%s attach %s' starts it again", s.ID, s.Status, s.Reason, o.root.Flavor.DisplayName, s.ID)
	}
	_, _ = fmt.Fprintf(o.root.Streams.ErrOut, "Session %s is already running for %s\n", s.ID, o.workspace)
	_, err := fmt.Fprintln(o.root.Streams.Out, s.ID)
	return err
}

// printNetworkWarning makes unsafe modes impossible to miss.
func (o *StartOptions) printNetworkWarning() {
	w := o.root.Streams.ErrOut
	switch {
	case o.AllowNetwork && o.Yolo:
		_, _ = fmt.Fprint(w, `
************************************************************************
*  DANGER: --yolo with --allow-network                                 *
*  The agent runs commands WITHOUT asking and has UNRESTRICTED network *
*  access. It can send anything in this workspace and in the mounted   *
*  credentials anywhere on the internet. Use only with throwaway data. *
************************************************************************
`)
	case o.AllowNetwork:
		_, _ = fmt.Fprintln(w, "WARNING: --allow-network: the agent has unrestricted network access (no proxy, no allowlist)")
	}
}

// printSyncWarning says that the chosen sync engine lets the agent write
// outside the workspace: DevSpace, which only the configuration picks.
func (o *StartOptions) printSyncWarning() {
	if o.backend != backend.OpenShift || o.cfg.Sync.Method != config.SyncDevSpace {
		return
	}
	_, _ = fmt.Fprintln(o.root.Streams.ErrOut, `WARNING: sync.method is "devspace": DevSpace follows symlinks out of the workspace and applies what the pod sends unchecked, so the agent can write files outside your workspace; use "native" unless you trust the agent`)
}

// attach connects to a session and turns a non-zero agent exit code into
// an *ExitError so main exits with it.
func attach(ctx context.Context, b backend.Backend, id string, root *RootOptions) error {
	code, err := b.AttachSession(ctx, id, root.Streams)
	if err != nil {
		return err
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}
