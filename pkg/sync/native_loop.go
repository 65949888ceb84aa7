package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/klog/v2"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// run is the engine loop: it owns the index and the workspace and handles,
// one at a time, local changes, the session's changes, commands, and a
// broken connection.
func (n *Native) run(ctx context.Context) {
	defer close(n.done)
	defer n.closeAll()
	backoff := time.Second
	for {
		var err error
		l := n.link
		select {
		case <-ctx.Done():
			n.runErr = ctx.Err()
			_ = n.saveIndex()
			n.setState(StateStopped, nil)
			return
		case c, ok := <-n.watcher.Changes():
			if !ok {
				n.runErr = errors.New("local watcher stopped")
				n.fail(n.runErr)
				return
			}
			err = n.handleLocal(ctx, c)
		case <-l.notified:
			err = n.handleRemote(ctx)
		case cmd := <-n.cmds:
			switch cmd.kind {
			case "stop":
				err := n.finalPull(cmd.ctx)
				if serr := n.saveIndex(); err == nil {
					err = serr
				}
				n.setState(StateStopped, nil)
				n.runErr = err
				cmd.reply <- err
				return
			case "once":
				err = n.reconcile(cmd.ctx, false, true)
				cmd.reply <- err
			}
		case <-l.dead:
			err = l.err()
		}
		if err == nil {
			backoff = time.Second
			n.maybeSave()
			continue
		}
		if n.link.err() == nil && !errors.Is(err, context.Canceled) {
			// The link is fine: a local problem, reported and retried with
			// the next change.
			n.warn(err.Error())
			continue
		}
		if ctx.Err() != nil {
			continue
		}
		if !n.reconnect(ctx, err, &backoff) {
			return
		}
	}
}

// maybeSave writes the index and the status file at most every two
// seconds while running.
func (n *Native) maybeSave() {
	if time.Since(n.lastSave) < 2*time.Second {
		return
	}
	if n.idxDirty {
		if err := n.saveIndex(); err != nil {
			n.warn(err.Error())
		}
	}
	n.writeStatus()
	n.lastSave = time.Now()
}

// reconnect replaces a broken link and reconciles, retrying with backoff
// until it works, ctx ends or Stop is called. While the link is down,
// local changes are not pushed one by one: the reconcile that follows a
// new link covers them.
func (n *Native) reconnect(ctx context.Context, cause error, backoff *time.Duration) bool {
	for {
		n.setState(StateReconnecting, cause)
		if n.link != nil {
			n.link.close()
		}
		if !n.waitBackoff(ctx, cause, *backoff) {
			return false
		}
		*backoff = min(*backoff*2, 30*time.Second)
		if err := n.dial(ctx); err != nil {
			cause = err
			continue
		}
		if err := n.reconcile(ctx, false, true); err != nil {
			cause = err
			continue
		}
		n.setState(StateWatching, nil)
		return true
	}
}

// waitBackoff sleeps before the next attempt, still answering Stop and
// releasing Flush callers; false means the engine is to end.
func (n *Native) waitBackoff(ctx context.Context, cause error, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			n.runErr = ctx.Err()
			n.setState(StateStopped, nil)
			return false
		case c, ok := <-n.watcher.Changes():
			if ok && c.Marker != nil {
				close(c.Marker)
			}
		case cmd := <-n.cmds:
			if cmd.kind == "stop" {
				err := fmt.Errorf("stopped while the connection to the session was down, without a final pull: %w", cause)
				_ = n.saveIndex()
				n.runErr = err
				n.setState(StateStopped, nil)
				cmd.reply <- err
				return false
			}
			cmd.reply <- fmt.Errorf("sync is reconnecting to the session: %w", cause)
		case <-t.C:
			return true
		}
	}
}

// handleLocal pushes a batch of local changes.
func (n *Native) handleLocal(ctx context.Context, c tree.Changes) error {
	defer func() {
		if c.Marker != nil {
			close(c.Marker)
		}
	}()
	paths := c.Paths
	if c.Rescan {
		paths = n.allLocalPaths()
	}
	paths = append(paths, forcedPaths(n.force)...)
	n.setPending(len(paths))
	defer n.setPending(0)
	items := n.planLocal(paths)
	if klog.V(4).Enabled() {
		for _, it := range items {
			klog.Infof("sync: push %s %q (from %q)", it.e.Op, it.e.Path, it.e.Target)
		}
	}
	conflicts, err := n.push(ctx, items, nil)
	if err != nil {
		return err
	}
	if err := n.settlePushConflicts(ctx, conflicts); err != nil {
		return err
	}
	if len(items) > 0 {
		n.synced()
	}
	return nil
}

// allLocalPaths lists every local path and every indexed one, for a
// rescan.
func (n *Native) allLocalPaths() []string {
	seen := map[string]struct{}{}
	_ = tree.Walk(n.ws.Dir(), "", n.x, func(e wire.Entry) error {
		seen[e.Path] = struct{}{}
		return nil
	})
	for p := range n.idx.Records {
		seen[p] = struct{}{}
	}
	return forcedPaths(seen)
}

// handleRemote applies what the session notified, or reconciles when it
// lost track.
func (n *Native) handleRemote(ctx context.Context) error {
	entries, rescan := n.link.takeNotifies()
	if rescan {
		return n.reconcile(ctx, false, true)
	}
	if len(entries) == 0 {
		return nil
	}
	if err := n.pullEntries(ctx, entries); err != nil {
		return err
	}
	// Local versions kept over the session's are pushed now.
	if len(n.force) > 0 {
		return n.handleLocal(ctx, tree.Changes{})
	}
	n.synced()
	return nil
}

// finalPull asks the watch helper to report everything it has seen and
// applies it: Stop's last step.
func (n *Native) finalPull(ctx context.Context) error {
	l := n.link
	if l.err() != nil {
		return fmt.Errorf("no final pull, the connection to the session is down: %w", l.err())
	}
	done, err := l.request(wire.RequestMarker, wire.BatchMarker, nil, func(start wire.Start, r *wire.Reader) error {
		return readItems(r, start, 0, nil)
	})
	if err == nil {
		err = l.wait(ctx, done)
	}
	if err == nil {
		err = n.handleRemote(ctx)
	}
	if err != nil {
		return fmt.Errorf("final pull from the session failed: %w", err)
	}
	return nil
}
