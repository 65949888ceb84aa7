package podman

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/paude-dev/paude/pkg/backend"
)

// Cleanup implements backend.Cleaner: it stops the sessions whose agent
// container has ended (the agent exited, or the idle timeout or maximum
// lifetime stopped it) or failed, fetching their commits first as stop
// does; then it removes the proxies no session is connected to and the
// networks no session has any more. Running and starting sessions, and
// their proxies, are left alone.
func (b *Backend) Cleanup(ctx context.Context, out io.Writer) error {
	sessions, err := b.ListSessions(ctx)
	if err != nil {
		return err
	}
	removed := 0
	alive := map[string]bool{}
	for _, s := range sessions {
		if s.Status != backend.StatusStopped && s.Status != backend.StatusError {
			alive[s.ID] = true
			continue
		}
		_, _ = fmt.Fprintf(out, "Removing session %s (%s: %s)\n", s.ID, s.Status, s.Reason)
		if err := b.StopSession(ctx, s.ID); err != nil {
			return fmt.Errorf("failed to remove finished session %s: %w", s.ID, err)
		}
		removed++
	}
	if err := b.removeOrphans(ctx, alive, out); err != nil {
		return err
	}
	if removed == 0 {
		_, err := fmt.Fprintln(out, "No finished or expired sessions")
		return err
	}
	_, err = fmt.Fprintf(out, "Removed %d session(s)\n", removed)
	return err
}

// removeOrphans removes the networks of sessions that are gone (and the
// shared network of older paude versions), then the proxies that no
// remaining session network is connected to.
func (b *Backend) removeOrphans(ctx context.Context, alive map[string]bool, out io.Writer) error {
	nets, err := b.networks(ctx)
	if err != nil {
		return err
	}
	proxies, err := b.list(ctx, backend.RoleProxy)
	if err != nil {
		return err
	}
	var orphans []string
	for name, id := range nets {
		if !alive[id] {
			orphans = append(orphans, name)
		}
	}
	for _, p := range proxies {
		for _, name := range p.Names {
			// Off the orphaned networks first: podman refuses to remove a
			// network a container is on.
			for _, n := range orphans {
				_, _ = b.runner.Run(ctx, networkDisconnectArgs(n, name))
			}
		}
	}
	for _, n := range orphans {
		_, _ = fmt.Fprintf(out, "Removing network %s, whose session is gone\n", n)
		if _, err := b.runner.Run(ctx, networkRemoveArgs(n)); err != nil && !notFound(err) {
			return fmt.Errorf("failed to remove network %s: %w", n, err)
		}
	}
	for _, p := range proxies {
		if proxyInUse(p, alive) {
			continue
		}
		_, _ = fmt.Fprintf(out, "Removing proxy %s, which no session uses\n", strings.Join(p.Names, ", "))
		if _, err := b.runner.Run(ctx, removeArgs(p.Names...)); err != nil {
			return fmt.Errorf("failed to remove proxy %s: %w", strings.Join(p.Names, ", "), err)
		}
	}
	return nil
}

// proxyInUse reports whether a session that stays is on the proxy's
// networks.
func proxyInUse(p psEntry, alive map[string]bool) bool {
	for _, n := range p.Networks {
		if id, ok := strings.CutPrefix(n, networkPrefix); ok && alive[id] {
			return true
		}
	}
	return false
}
