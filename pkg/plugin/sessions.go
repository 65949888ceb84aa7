package plugin

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/paude-dev/paude/pkg/backend"
)

// SessionsOptions are `paude sessions`'.
type SessionsOptions struct {
	root *RootOptions
	b    backend.Backend
	now  func() time.Time
}

// NewCmdSessions lists sessions as a table.
func NewCmdSessions(root *RootOptions) *cobra.Command {
	o := &SessionsOptions{root: root, now: time.Now}
	cmd := &cobra.Command{
		Use:     "sessions",
		Aliases: []string{"list", "ls"},
		Short:   "List sessions, newest first",
		Example: templates.Examples(fmt.Sprintf(`
			# Sessions on the default backend
			%[1]s sessions`, root.Flavor.DisplayName)),
		Args: noArgs(root),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	return cmd
}

// Complete builds the backend.
func (o *SessionsOptions) Complete() error {
	if err := o.root.applyLegacyFlags(); err != nil {
		return err
	}
	b, err := o.root.Backend()
	if err != nil {
		return err
	}
	o.b = b
	return nil
}

// Run prints the table to Out; "No sessions" goes to ErrOut so that
// scripts reading Out see an empty table.
func (o *SessionsOptions) Run(ctx context.Context) error {
	sessions, err := o.b.ListSessions(ctx)
	if err != nil {
		return err
	}
	if len(sessions) == 0 {
		_, err := fmt.Fprintf(o.root.Streams.ErrOut, "No %s sessions. Start one with '%s'.\n",
			o.b.Type(), o.root.Flavor.DisplayName)
		return err
	}
	return printSessions(o.root.Streams.Out, sessions, o.now())
}

// printSessions writes the ID/STATUS/CREATED/WORKSPACE table.
func printSessions(out io.Writer, sessions []backend.Session, now time.Time) error {
	tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	_, _ = fmt.Fprintln(tw, "ID\tSTATUS\tCREATED\tWORKSPACE")
	for _, s := range sessions {
		status := string(s.Status)
		if s.Reason != "" {
			status += " (" + s.Reason + ")"
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, status, ago(now.Sub(s.CreatedAt)), s.Workspace)
	}
	return tw.Flush()
}

// ago words a duration the way people say it: "5 minutes ago".
func ago(d time.Duration) string {
	unit := func(n int, name string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s ago", name)
		}
		return fmt.Sprintf("%d %ss ago", n, name)
	}
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return unit(int(d/time.Second), "second")
	case d < time.Hour:
		return unit(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int(d/time.Hour), "hour")
	default:
		return unit(int(d/(24*time.Hour)), "day")
	}
}
