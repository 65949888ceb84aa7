package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/paude-dev/paude/pkg/backend"
)

// SetupOptions are `paude setup`'s.
type SetupOptions struct {
	root *RootOptions
	cmd  *cobra.Command
	b    backend.Setupper
	typ  backend.Type
}

// NewCmdSetup prepares a backend once: on OpenShift it checks access,
// creates the namespace when allowed and the persistent credential objects.
func NewCmdSetup(root *RootOptions) *cobra.Command {
	o := &SetupOptions{root: root}
	return &cobra.Command{
		Use:   "setup",
		Short: "Check access and prepare the backend once (namespace, credentials)",
		Long: longDesc(`
			Check that the backend works and prepare what every session shares. On
			OpenShift/Kubernetes: check connectivity and every permission sessions
			need, create the namespace when allowed, save your credentials in the
			namespace for sessions started from machines that lack them, find the
			registry for the session images (and the pull secret they need), and
			create the NetworkPolicies that confine the default allowlist's agents
			and proxy. Prints what it did; running it again changes nothing that is
			in place.`),
		Example: templates.Examples(fmt.Sprintf(`
			# Prepare namespace "agents" on the current cluster
			%[1]s setup%[2]s -n agents`, root.Flavor.DisplayName, clusterFlag(root))),
		Args: noArgs(root),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Complete(c); err != nil {
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
func (o *SetupOptions) Complete(c *cobra.Command) error {
	o.cmd = c
	return o.root.applyLegacyFlags()
}

// Validate builds the backend and checks that it has a setup step.
func (o *SetupOptions) Validate() error {
	b, err := o.root.Backend()
	if err != nil {
		return err
	}
	o.typ = b.Type()
	if s, ok := b.(backend.Setupper); ok {
		o.b = s
	}
	return nil
}

// Run prepares the backend, or says there is nothing to prepare.
func (o *SetupOptions) Run(ctx context.Context) error {
	if o.b == nil {
		_, err := fmt.Fprintf(o.root.Streams.ErrOut, "The %s backend needs no setup: start a session with '%s'.\n", o.typ, o.root.Flavor.DisplayName)
		return err
	}
	return o.b.Setup(ctx, o.root.Streams.ErrOut)
}

// clusterFlag is what a command line needs to reach a cluster: nothing
// for the plugin, whose backend is the cluster's, --backend=openshift
// for the standalone paude, which defaults to Podman.
func clusterFlag(root *RootOptions) string {
	if root.Flavor == Standalone {
		return " --backend=openshift"
	}
	return ""
}
