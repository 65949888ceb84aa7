package plugin

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/paude-dev/paude/pkg/backend"
)

// sessionTarget is the part commands naming one session share: an
// optional ID argument, checked before any backend call, that defaults to
// the most recent session.
type sessionTarget struct {
	root *RootOptions
	cmd  *cobra.Command
	args []string
	b    backend.Backend
}

// complete records the arguments and folds the legacy flags in.
func (s *sessionTarget) complete(c *cobra.Command, args []string) error {
	s.cmd, s.args = c, args
	return s.root.applyLegacyFlags()
}

// validate checks a user-typed ID (a usage error, exit 2) so that a bad ID
// never reaches a backend, then builds the backend.
func (s *sessionTarget) validate() error {
	if len(s.args) > 0 {
		if err := backend.ValidateSessionID(s.args[0]); err != nil {
			return &UsageError{Msg: err.Error(), Command: displayPath(s.cmd, s.root)}
		}
	}
	b, err := s.root.Backend()
	if err != nil {
		return err
	}
	s.b = b
	return nil
}

// resolve returns the ID the user named or, with none named, the most
// recent session's.
func (s *sessionTarget) resolve(ctx context.Context) (string, error) {
	if len(s.args) > 0 {
		return s.args[0], nil
	}
	sessions, err := s.b.ListSessions(ctx)
	if err != nil {
		return "", err
	}
	if len(sessions) == 0 {
		return "", fmt.Errorf("no %s sessions: start one with '%s'", s.b.Type(), s.root.Flavor.DisplayName)
	}
	newest := sessions[0]
	for _, x := range sessions[1:] {
		if x.CreatedAt.After(newest.CreatedAt) {
			newest = x
		}
	}
	return newest.ID, nil
}
