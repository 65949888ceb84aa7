package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paude-dev/paude/pkg/backend"
)

// resolveSessionID returns the ID the user named (validated before any
// backend call) or, with none named, the most recent session's ID.
func resolveSessionID(ctx context.Context, c *cobra.Command, root *RootOptions, b backend.Backend, args []string) (string, error) {
	if len(args) > 0 {
		if err := backend.ValidateSessionID(args[0]); err != nil {
			return "", &UsageError{Msg: err.Error(), Command: displayPath(c, root)}
		}
		return args[0], nil
	}
	sessions, err := b.ListSessions(ctx)
	if err != nil {
		return "", err
	}
	if len(sessions) == 0 {
		return "", fmt.Errorf("no %s sessions: start one with '%s'", b.Type(), root.Flavor.DisplayName)
	}
	newest := sessions[0]
	for _, s := range sessions[1:] {
		if s.CreatedAt.After(newest.CreatedAt) {
			newest = s
		}
	}
	return newest.ID, nil
}

// validateSessionArg checks a user-typed ID early, in Validate, so that a
// bad ID never reaches a backend.
func validateSessionArg(c *cobra.Command, root *RootOptions, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if err := backend.ValidateSessionID(args[0]); err != nil {
		return &UsageError{Msg: err.Error(), Command: displayPath(c, root)}
	}
	return nil
}
