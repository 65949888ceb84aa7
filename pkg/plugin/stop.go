package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/paude-dev/paude/pkg/backend"
)

// StopOptions are `paude stop [ID|--all]`'s.
type StopOptions struct {
	sessionTarget
	All bool
}

// NewCmdStop stops one session or all of them.
func NewCmdStop(root *RootOptions) *cobra.Command {
	o := &StopOptions{sessionTarget: sessionTarget{root: root}}
	cmd := &cobra.Command{
		Use:   "stop [SESSION_ID | --all]",
		Short: "Stop a session and remove its objects (default: the most recent)",
		Long: longDesc(`
			Stop a session: the agent's commits are fetched into your repository
			(as paude/<session>/<branch>) and the files it changed that make your
			machine run code are listed, then its container or pod and the objects
			made for it are removed. Its proxy stays for other sessions with the same
			allowlist. A session that is already gone is not an error. With --all,
			every session is stopped and every proxy and network is removed too.`),
		Example: templates.Examples(fmt.Sprintf(`
			# Stop the most recent session
			%[1]s stop

			# Stop everything paude created
			%[1]s stop --all`, root.Flavor.DisplayName)),
		Args: maxArgs(root, 1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "stop every session and remove every proxy and network")
	return cmd
}

// Complete records the arguments.
func (o *StopOptions) Complete(c *cobra.Command, args []string) error {
	return o.complete(c, args)
}

// Validate rejects an ID together with --all, and a malformed ID.
func (o *StopOptions) Validate() error {
	if o.All && len(o.args) > 0 {
		return &UsageError{Msg: "give a session id or --all, not both", Command: displayPath(o.cmd, o.root)}
	}
	return o.validate()
}

// Run stops what was asked for and says what it did.
func (o *StopOptions) Run(ctx context.Context) error {
	out := o.root.Streams.ErrOut
	if o.All {
		return o.stopAll(ctx)
	}
	id, err := o.resolve(ctx)
	if err != nil {
		return err
	}
	if err := o.b.StopSession(ctx, id); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "Stopped session %s\n", id)
	return err
}

func (o *StopOptions) stopAll(ctx context.Context) error {
	out := o.root.Streams.ErrOut
	if s, ok := o.b.(backend.AllStopper); ok {
		if err := s.StopAll(ctx); err != nil {
			return err
		}
		_, err := fmt.Fprintf(out, "Stopped all %s sessions and removed the shared objects\n", o.b.Type())
		return err
	}
	sessions, err := o.b.ListSessions(ctx)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if err := o.b.StopSession(ctx, s.ID); err != nil {
			return err
		}
		_, _ = fmt.Fprintf(out, "Stopped session %s\n", s.ID)
	}
	return nil
}
