package plugin

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"
)

// setupRunner is implemented by backends with one-time preparation.
type setupRunner interface {
	Setup(ctx context.Context, out io.Writer) error
}

// cleanupRunner is implemented by backends that can find finished or
// expired sessions.
type cleanupRunner interface {
	Cleanup(ctx context.Context, out io.Writer) error
}

// NewCmdSetup prepares a backend once: on OpenShift it checks access,
// creates the namespace when allowed and the persistent credential objects.
func NewCmdSetup(root *RootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "setup",
		Short: "Check access and prepare the backend once (namespace, credentials)",
		Long: longDesc(`
			Check that the backend works and prepare what every session shares. On
			OpenShift/Kubernetes: check connectivity and permissions, create the
			namespace when allowed, and create the persistent credential objects.
			Prints what it did.`),
		Example: templates.Examples(fmt.Sprintf(`
			# Prepare namespace "agents" on the current cluster
			%[1]s setup --backend=openshift -n agents`, root.Flavor.DisplayName)),
		Args: noArgs(root),
		RunE: func(c *cobra.Command, _ []string) error {
			return runMaintenance(c.Context(), root, "setup", func(b any, out io.Writer) (bool, error) {
				s, ok := b.(setupRunner)
				if !ok {
					return false, nil
				}
				return true, s.Setup(c.Context(), out)
			})
		},
	}
}

// NewCmdCleanup removes finished or expired sessions.
func NewCmdCleanup(root *RootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cleanup",
		Short: "Remove finished or expired sessions and their objects",
		Long: longDesc(`
			Remove sessions whose agent has exited, whose idle timeout or maximum
			lifetime has passed, or that failed, together with the objects made for
			them. Running sessions are left alone.`),
		Args: noArgs(root),
		RunE: func(c *cobra.Command, _ []string) error {
			return runMaintenance(c.Context(), root, "cleanup", func(b any, out io.Writer) (bool, error) {
				s, ok := b.(cleanupRunner)
				if !ok {
					return false, nil
				}
				return true, s.Cleanup(c.Context(), out)
			})
		},
	}
}

// runMaintenance builds the backend and runs one optional capability.
func runMaintenance(_ context.Context, root *RootOptions, verb string, run func(b any, out io.Writer) (bool, error)) error {
	if err := root.applyLegacyFlags(); err != nil {
		return err
	}
	b, err := root.Backend()
	if err != nil {
		return err
	}
	ok, err := run(b, root.Streams.ErrOut)
	if err != nil {
		return err
	}
	if !ok {
		_, err = fmt.Fprintf(root.Streams.ErrOut, "The %s backend has nothing to %s.\n", b.Type(), verb)
	}
	return err
}
