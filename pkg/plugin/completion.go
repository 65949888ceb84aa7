package plugin

import (
	"github.com/spf13/cobra"

	"github.com/paude-dev/paude/pkg/backend"
)

// registerCompletions adds shell completion for --backend and for session
// IDs. kubectl completes "kubectl paude ..." through the
// kubectl_complete-paude script beside the plugin binary, which calls the
// hidden __complete command these feed.
func registerCompletions(root *RootOptions, cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("backend", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		names := make([]string, len(backend.Types))
		for i, t := range backend.Types {
			names[i] = string(t)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	for _, sub := range cmd.Commands() {
		if sub.Name() == "attach" || sub.Name() == "stop" {
			sub.ValidArgsFunction = completeSessionIDs(root)
		}
	}
}

// completeSessionIDs offers the IDs of the backend's sessions, with their
// status and workspace as descriptions. A backend that cannot be reached
// offers nothing rather than an error in the middle of a command line.
func completeSessionIDs(root *RootOptions) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if root.applyLegacyFlags() != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		b, err := root.Backend()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		sessions, err := b.ListSessions(c.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ids := make([]string, 0, len(sessions))
		for _, s := range sessions {
			ids = append(ids, s.ID+"\t"+string(s.Status)+" "+s.Workspace)
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}
