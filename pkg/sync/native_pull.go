package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// pullItem is a path to fetch from the session and where it goes.
type pullItem struct {
	path string
	// conflict saves the session's version beside the local one.
	conflict bool
	// expect is the local state the decision assumed; the fetched file
	// replaces only that.
	expect   side
	expectOK bool
}

// pullEntries decides, for each change the session notified, whether to
// apply it (the local side did not change since the last sync), keep the
// local version and save the session's beside it (both changed), or do
// nothing (the session only reported what sync wrote there itself).
func (n *Native) pullEntries(ctx context.Context, entries []wire.Entry) error {
	n.ws.ResetBatch()
	entries = n.pairRemoteRenames(entries)
	var gets []pullItem
	var both []wire.Entry
	for _, e := range entries {
		p := e.Path
		rec := n.idx.Records[p]
		if e.Op == wire.OpDelete && rec == nil {
			continue
		}
		if e.Op == wire.OpPut && rec != nil && rec.Remote.same(e, true) {
			continue
		}
		l, lok, err := n.ws.Dir().LstatPath(p)
		if err != nil {
			n.warn(fmt.Sprintf("cannot read %s: %v", guard.Printable(p), err))
			continue
		}
		changed := (rec == nil && lok) || (rec != nil && !rec.Local.same(l, lok))
		if !changed {
			if e.Op == wire.OpPut && e.Kind == wire.KindFile {
				it := pullItem{path: p, expectOK: lok}
				if lok {
					it.expect = sideOf(l)
				}
				gets = append(gets, it)
				continue
			}
			if err := n.applyDirect(ctx, e); err != nil {
				return err
			}
			continue
		}
		if e.Op == wire.OpPut && lok && e.Kind == l.Kind {
			switch {
			case e.Kind == wire.KindDir, e.Kind == wire.KindSymlink && e.Target == l.Target:
				n.idx.Records[p] = &record{Local: sideOf(l), Remote: sideOf(e)}
				n.idxDirty = true
				continue
			case e.Kind == wire.KindFile && e.Size == l.Size:
				both = append(both, e)
				continue
			}
		}
		gets = n.conflictWith(e, gets)
	}
	if len(both) > 0 {
		same, err := n.sameContent(ctx, both)
		if err != nil {
			return err
		}
		for _, e := range both {
			if same[e.Path] {
				if l, ok, _ := n.ws.Dir().LstatPath(e.Path); ok {
					n.idx.Records[e.Path] = &record{Local: sideOf(l), Remote: sideOf(e)}
					n.idxDirty = true
				}
				continue
			}
			gets = n.conflictWith(e, gets)
		}
	}
	return n.fetch(ctx, gets, nil)
}

// conflictWith handles a path changed on both sides: the local version is
// kept and pushed as it is; the session's file is fetched as a conflict
// copy.
func (n *Native) conflictWith(e wire.Entry, gets []pullItem) []pullItem {
	n.force[e.Path] = struct{}{}
	if e.Op == wire.OpPut && e.Kind == wire.KindFile {
		return append(gets, pullItem{path: e.Path, conflict: true})
	}
	n.conflict(Conflict{Path: e.Path, Time: time.Now()})
	return gets
}

// keepLocal tells Workspace.Remove to keep local objects the session has
// not seen (new or changed since the last sync).
func (n *Native) keepLocal(e wire.Entry) bool {
	rec := n.idx.Records[e.Path]
	if rec == nil || !rec.Local.same(e, true) {
		n.force[e.Path] = struct{}{}
		return true
	}
	return false
}

// applyDirect applies a change that carries no content: a delete, a
// directory or a symlink.
func (n *Native) applyDirect(ctx context.Context, e wire.Entry) error {
	if err := n.take(ctx); err != nil {
		return err
	}
	var st wire.Entry
	var err error
	switch {
	case e.Op == wire.OpDelete:
		_, err = n.ws.Remove(e.Path, n.keepLocal)
		if err == nil {
			n.idx.drop(e.Path)
			n.idxDirty = true
			return nil
		}
	case e.Kind == wire.KindDir:
		st, err = n.ws.Mkdir(&e)
	case e.Kind == wire.KindSymlink:
		st, err = n.ws.Symlink(&e)
	default:
		return nil
	}
	return n.recordPull(e, st, err)
}

// recordPull notes the outcome of applying e locally.
func (n *Native) recordPull(e, st wire.Entry, err error) error {
	var ref *guard.Refusal
	switch {
	case err == nil:
		n.idx.Records[e.Path] = &record{Local: sideOf(st), Remote: sideOf(e)}
		n.idxDirty = true
	case errors.As(err, &ref):
		n.report(*ref)
	case errors.Is(err, guard.ErrChanged):
	default:
		n.warn(fmt.Sprintf("could not apply %s from the session: %v", guard.Printable(e.Path), err))
	}
	return nil
}

// take spends a token for one entry from the session, slowing a session
// that changes files faster than the limit.
func (n *Native) take(ctx context.Context) error {
	delayed, err := n.throttle.Take(ctx, 1)
	if delayed {
		n.report(guard.Refusal{Rule: guard.RuleRate, Detail: fmt.Sprintf("the session changes files faster than %.0f per second: slowed down", n.opts.Limits.EntryRate)})
	}
	return err
}

// pairRemoteRenames applies, as local renames, the session's moves: a
// gone path and a new one with the same inode. What cannot be moved that
// way is left to the normal delete and fetch.
func (n *Native) pairRemoteRenames(entries []wire.Entry) []wire.Entry {
	gone := map[uint64]string{}
	for _, e := range entries {
		if e.Op != wire.OpDelete {
			continue
		}
		if rec := n.idx.Records[e.Path]; rec != nil && rec.Remote.Ino != 0 {
			gone[rec.Remote.Ino] = e.Path
		}
	}
	if len(gone) == 0 {
		return entries
	}
	done := map[string]bool{}
	for _, e := range entries {
		from, ok := gone[e.Ino]
		if e.Op != wire.OpPut || !ok || done[from] || n.idx.Records[e.Path] != nil {
			continue
		}
		old := n.idx.Records[from]
		if old.Remote.Kind != e.Kind || (e.Kind == wire.KindFile && !old.Remote.same(e, true)) {
			continue
		}
		l, lok, _ := n.ws.Dir().LstatPath(from)
		if _, taken, _ := n.ws.Dir().LstatPath(e.Path); taken || !old.Local.same(l, lok) {
			continue
		}
		st, err := n.ws.Rename(from, e.Path)
		if err != nil {
			var ref *guard.Refusal
			if errors.As(err, &ref) {
				n.report(*ref)
			}
			continue
		}
		n.idx.move(from, e.Path)
		n.idx.Records[e.Path] = &record{Local: sideOf(st), Remote: sideOf(e)}
		n.idxDirty = true
		done[from], done[e.Path] = true, true
	}
	var rest []wire.Entry
	for _, e := range entries {
		if !done[e.Path] {
			rest = append(rest, e)
		}
	}
	return rest
}
