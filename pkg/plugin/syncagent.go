package plugin

import (
	"github.com/spf13/cobra"

	"github.com/paude-dev/paude/pkg/sync/agent"
)

// NewCmdSyncAgent is the hidden `__sync-agent` command: the helper the
// native sync engine runs inside a session, as
// `<paude in the image> __sync-agent recv|watch` on one exec stream per
// direction (`version` prints the protocol version). Its standard streams
// carry the sync protocol, so it parses no flags and prints nothing else;
// its logic lives in pkg/sync/agent.
func NewCmdSyncAgent(root *RootOptions) *cobra.Command {
	return &cobra.Command{
		Use:                agent.Command + " recv|watch|version",
		Short:              "Workspace sync helper run inside a session (internal)",
		Hidden:             true,
		DisableFlagParsing: true,
		SilenceUsage:       true,
		SilenceErrors:      true,
		RunE: func(c *cobra.Command, args []string) error {
			return agent.Run(c.Context(), args, root.Streams.In, root.Streams.Out, root.Streams.ErrOut)
		},
	}
}
