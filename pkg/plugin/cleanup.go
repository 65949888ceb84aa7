package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/paude-dev/paude/pkg/backend"
)

// CleanupOptions are `paude cleanup`'s.
type CleanupOptions struct {
	root *RootOptions
	b    backend.Cleaner
	typ  backend.Type
}

// NewCmdCleanup removes finished or expired sessions.
func NewCmdCleanup(root *RootOptions) *cobra.Command {
	o := &CleanupOptions{root: root}
	return &cobra.Command{
		Use:   "cleanup",
		Short: "Remove finished or expired sessions and their objects",
		Long: longDesc(`
			Remove sessions whose agent has exited, whose idle timeout or maximum
			lifetime has passed, or that failed, together with the objects made for
			them (their commits are fetched first, as stop does), and the proxies and
			networks no session uses. Running sessions are left alone.`),
		Example: templates.Examples(fmt.Sprintf(`
			# Remove what ended sessions left behind
			%[1]s cleanup`, root.Flavor.DisplayName)),
		Args: noArgs(root),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
}

// Complete folds the legacy flags in.
func (o *CleanupOptions) Complete() error {
	return o.root.applyLegacyFlags()
}

// Validate builds the backend and checks that it can clean up.
func (o *CleanupOptions) Validate() error {
	b, err := o.root.Backend()
	if err != nil {
		return err
	}
	o.typ = b.Type()
	if c, ok := b.(backend.Cleaner); ok {
		o.b = c
	}
	return nil
}

// Run removes what is over and says what it removed.
func (o *CleanupOptions) Run(ctx context.Context) error {
	if o.b == nil {
		_, err := fmt.Fprintf(o.root.Streams.ErrOut, "The %s backend has nothing to clean up.\n", o.typ)
		return err
	}
	return o.b.Cleanup(ctx, o.root.Streams.ErrOut)
}
