package plugin

import (
	"github.com/spf13/cobra"

	"github.com/paude-dev/paude/pkg/gitboundary"
)

// newCmdGitBridge is the hidden command host git runs as the ext::
// transport of a fetch from a session (gitboundary.BridgeCommand SOCKET):
// it joins git's standard streams to paude's socket and prints nothing
// else, since its standard output is git's protocol stream.
func newCmdGitBridge(root *RootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    gitboundary.BridgeCommand + " SOCKET",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return gitboundary.RunBridge(args[0], root.Streams.In, root.Streams.Out)
		},
	}
}
