package podman

import (
	"context"
	"fmt"
	"io"

	"github.com/paude-dev/paude/pkg/backend"
)

// Cleanup implements backend.Cleaner: it removes the sessions whose agent
// container has ended (the agent exited, or the idle timeout or maximum
// lifetime stopped it) or failed. Running and starting sessions are left
// alone, and so are the proxy and the network, which running sessions use.
func (b *Backend) Cleanup(ctx context.Context, out io.Writer) error {
	sessions, err := b.ListSessions(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, s := range sessions {
		if s.Status != backend.StatusStopped && s.Status != backend.StatusError {
			continue
		}
		names = append(names, containerName(s.ID))
		_, _ = fmt.Fprintf(out, "Removing session %s (%s: %s)\n", s.ID, s.Status, s.Reason)
	}
	if len(names) == 0 {
		_, err := fmt.Fprintln(out, "No finished or expired sessions")
		return err
	}
	if _, err := b.runner.Run(ctx, removeArgs(names...)); err != nil {
		return fmt.Errorf("failed to remove finished sessions: %w", err)
	}
	_, err = fmt.Fprintf(out, "Removed %d session(s)\n", len(names))
	return err
}
