package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"
)

// AttachOptions are `paude attach [ID]`'s.
type AttachOptions struct {
	sessionTarget
}

// NewCmdAttach attaches the terminal to a session's tmux.
func NewCmdAttach(root *RootOptions) *cobra.Command {
	o := &AttachOptions{sessionTarget{root: root}}
	name := root.Flavor.DisplayName
	cmd := &cobra.Command{
		Use:   "attach [SESSION_ID]",
		Short: "Attach the terminal to a running session (default: the most recent)",
		Long: longDesc(`
			Attach the terminal to a session's tmux. Detach again with C-b d: the
			agent keeps running. If the session's agent has exited, attach exits with
			the agent's exit code.`),
		Example: templates.Examples(fmt.Sprintf(`
			# Reattach to the most recent session
			%[1]s attach

			# Attach to a given session
			%[1]s attach 1764270000-3f2a9c1d`, name)),
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
	return cmd
}

// Complete records the arguments.
func (o *AttachOptions) Complete(c *cobra.Command, args []string) error {
	return o.complete(c, args)
}

// Validate checks the session ID, if one was given, and the backend.
func (o *AttachOptions) Validate() error {
	return o.validate()
}

// Run attaches and returns the agent's exit code as an *ExitError.
func (o *AttachOptions) Run(ctx context.Context) error {
	id, err := o.resolve(ctx)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(o.root.Streams.ErrOut, "Attaching to session %s...\n", id)
	return attach(ctx, o.b, id, o.root)
}
