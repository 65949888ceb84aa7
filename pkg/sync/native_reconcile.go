package sync

import (
	"context"
	"fmt"
	"slices"

	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// reconcile compares the whole local tree, the session's manifest and the
// index, and brings both sides in step.
//
// Without an index (the first sync of a session) local wins: every local
// path is pushed over whatever the session has, and paths only the
// session has are pulled (DevSpace's preferLocal). With an index it is a
// three-way merge: a side that changed since the last sync wins over one
// that did not; a path changed on both sides keeps the local version and
// the session's is saved beside it.
func (n *Native) reconcile(ctx context.Context, reportProgress, watch bool) error {
	var prog *progress
	if reportProgress {
		prog = newProgress(n.opts.Progress)
	}
	prog.phase("scan", 0, 0)
	local := make(map[string]wire.Entry, len(n.idx.Records))
	err := tree.Walk(n.ws.Dir(), "", n.x, func(e wire.Entry) error {
		if syncable(e.Kind) {
			local[e.Path] = e
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to scan %s: %w", n.opts.LocalRoot, err)
	}
	first := len(n.idx.Records) == 0
	// The session's watches go in first, so that nothing it changes after
	// the manifest is missed, unless a large first push is coming: then
	// they go in after it (the helper would report every pushed file back)
	// and a second manifest catches what changed there meanwhile.
	deferWatch := watch && first && len(local) > deferWatchAbove
	if watch && !deferWatch {
		if err := n.startWatch(ctx); err != nil {
			return err
		}
	}
	remote, refused, err := n.manifest(ctx)
	if err != nil {
		return err
	}
	pushes := make([]pushItem, 0, max(len(local)-len(n.idx.Records), 16))
	var pulls []wire.Entry
	var both []wire.Entry
	paths := unionPaths(local, remote, n.idx.Records)
	for _, p := range paths {
		if refused[p] {
			// The session's object there breaks the rules: leave the
			// path alone on both sides.
			continue
		}
		l, lok := local[p]
		r, rok := remote[p]
		rec := n.idx.Records[p]
		if first {
			switch {
			case lok && rok && l.Kind == r.Kind && (l.Kind == wire.KindDir ||
				(l.Kind == wire.KindSymlink && l.Target == r.Target) ||
				(l.Kind == wire.KindFile && l.Size == r.Size && l.Mtime == r.Mtime)):
				n.idx.Records[p] = &record{Local: sideOf(l), Remote: sideOf(r)}
			case lok:
				it := pushItem{e: l, local: l}
				it.e.Expect = wire.Expect{Any: true}
				pushes = append(pushes, it)
			case rok:
				pulls = append(pulls, r)
			}
			continue
		}
		lc := rec == nil && lok || rec != nil && !rec.Local.same(l, lok)
		rc := rec == nil && rok || rec != nil && !rec.Remote.same(r, rok)
		switch {
		case !lc && !rc:
		case lc && !rc:
			pushes = append(pushes, n.planLocal([]string{p})...)
		case !lc && rc:
			if rok {
				pulls = append(pulls, r)
			} else {
				pulls = append(pulls, wire.Entry{Op: wire.OpDelete, Path: p})
			}
		default:
			switch {
			case !lok && !rok:
				delete(n.idx.Records, p)
			case lok && rok && l.Kind == r.Kind && (l.Kind == wire.KindDir || l.Kind == wire.KindSymlink && l.Target == r.Target):
				n.idx.Records[p] = &record{Local: sideOf(l), Remote: sideOf(r)}
			case lok && rok && l.Kind == wire.KindFile && r.Kind == wire.KindFile && l.Size == r.Size:
				both = append(both, r)
			default:
				if !rok {
					r = wire.Entry{Op: wire.OpDelete, Path: p}
				}
				both = append(both, r)
			}
		}
	}
	n.idxDirty = true
	if err := n.settleBoth(ctx, both, local); err != nil {
		return err
	}
	if err := n.pullAll(ctx, pulls, prog); err != nil {
		return err
	}
	pushes = append(pushes, n.planLocal(forcedPaths(n.force))...)
	if err := n.pushAll(ctx, pushes, prog); err != nil {
		return err
	}
	if deferWatch {
		prog.phase("verify", 0, 0)
		if err := n.startWatch(ctx); err != nil {
			return err
		}
		if err := n.catchUp(ctx); err != nil {
			return err
		}
	}
	if err := n.saveIndex(); err != nil {
		return err
	}
	n.synced()
	return nil
}

func unionPaths(a, b map[string]wire.Entry, c map[string]*record) []string {
	seen := make(map[string]struct{}, len(a)+len(b))
	for p := range a {
		seen[p] = struct{}{}
	}
	for p := range b {
		seen[p] = struct{}{}
	}
	for p := range c {
		seen[p] = struct{}{}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func forcedPaths(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// settleBoth resolves paths changed on both sides: equal files are
// recorded, anything else becomes a conflict (local kept and pushed, the
// session's file saved beside it).
func (n *Native) settleBoth(ctx context.Context, both []wire.Entry, local map[string]wire.Entry) error {
	var sameSize []wire.Entry
	for _, r := range both {
		if l, ok := local[r.Path]; ok && r.Op == wire.OpPut && r.Kind == wire.KindFile && l.Kind == wire.KindFile && l.Size == r.Size {
			sameSize = append(sameSize, r)
		}
	}
	same := map[string]bool{}
	if len(sameSize) > 0 {
		var err error
		if same, err = n.sameContent(ctx, sameSize); err != nil {
			return err
		}
	}
	var gets []pullItem
	for _, r := range both {
		if same[r.Path] {
			n.idx.Records[r.Path] = &record{Local: sideOf(local[r.Path]), Remote: sideOf(r)}
			continue
		}
		gets = n.conflictWith(r, gets)
	}
	return n.fetch(ctx, gets, nil)
}

// pullAll applies the session's side of pulls: contentless changes at
// once, files by one fetch.
func (n *Native) pullAll(ctx context.Context, pulls []wire.Entry, prog *progress) error {
	var files int64
	var bytes int64
	var gets []pullItem
	n.ws.ResetBatch()
	// Deletes deepest first; everything else parents first.
	slices.SortStableFunc(pulls, func(a, b wire.Entry) int {
		if (a.Op == wire.OpDelete) != (b.Op == wire.OpDelete) {
			if a.Op == wire.OpDelete {
				return -1
			}
			return 1
		}
		if a.Op == wire.OpDelete {
			return -compareStrings(a.Path, b.Path)
		}
		return compareStrings(a.Path, b.Path)
	})
	for _, r := range pulls {
		if r.Op == wire.OpPut && r.Kind == wire.KindFile {
			l, lok, _ := n.ws.Dir().LstatPath(r.Path)
			it := pullItem{path: r.Path, expectOK: lok}
			if lok {
				it.expect = sideOf(l)
			}
			gets = append(gets, it)
			files++
			bytes += r.Size
			continue
		}
		if err := n.applyDirect(ctx, r); err != nil {
			return err
		}
	}
	prog.phase("pull", files, bytes)
	return n.fetch(ctx, gets, prog)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pushAll sends pushes as one streamed batch and settles the conflicts
// the session reports (paths it changed after the manifest was taken).
func (n *Native) pushAll(ctx context.Context, pushes []pushItem, prog *progress) error {
	puts := make([]pushItem, 0, len(pushes))
	var dels []pushItem
	var files, bytes int64
	seen := make(map[string]bool, len(pushes))
	for _, it := range pushes {
		if seen[it.e.Path] {
			continue
		}
		seen[it.e.Path] = true
		if it.e.Op == wire.OpDelete {
			dels = append(dels, it)
		} else {
			puts = append(puts, it)
		}
		files++
		bytes += it.e.Size
	}
	items := orderItems(dels, puts)
	prog.phase("push", files, bytes)
	conflicts, err := n.push(ctx, items, prog)
	if err != nil {
		return err
	}
	return n.settlePushConflicts(ctx, conflicts)
}

// settlePushConflicts handles pushes the session refused because it had
// changed the path meanwhile: save its version as a conflict copy, then
// push the local version over it.
func (n *Native) settlePushConflicts(ctx context.Context, conflicts []pushItem) error {
	for round := 0; len(conflicts) > 0; round++ {
		if round == 3 {
			n.warn(fmt.Sprintf("%d paths keep changing in the session while they are synced: they will be synced again on their next change", len(conflicts)))
			return nil
		}
		var gets []pullItem
		var paths []string
		for _, it := range conflicts {
			p := it.e.Path
			gets = append(gets, pullItem{path: p, conflict: true})
			paths = append(paths, p)
			n.force[p] = struct{}{}
		}
		if err := n.fetch(ctx, gets, nil); err != nil {
			return err
		}
		items := n.planLocal(paths)
		var err error
		if conflicts, err = n.push(ctx, items, nil); err != nil {
			return err
		}
	}
	return nil
}

// deferWatchAbove is the size of a first push above which the session's
// watches are placed only after it.
const deferWatchAbove = 1000

// startWatch has the watch helper place its watches.
func (n *Native) startWatch(ctx context.Context) error {
	if n.link.watching {
		return nil
	}
	done, err := n.link.request(wire.RequestWatch, wire.BatchMarker, nil, func(start wire.Start, r *wire.Reader) error {
		return readItems(r, start, 0, nil)
	})
	if err == nil {
		err = n.link.wait(ctx, done)
	}
	if err != nil {
		return err
	}
	n.link.watching = true
	return nil
}

// catchUp compares a fresh manifest with the index and applies, as
// notifications, what changed in the session while it was not watched.
func (n *Native) catchUp(ctx context.Context) error {
	remote, refused, err := n.manifest(ctx)
	if err != nil {
		return err
	}
	var changed []wire.Entry
	for p, r := range remote {
		if rec := n.idx.Records[p]; rec == nil || !rec.Remote.same(r, true) {
			changed = append(changed, r)
		}
	}
	for p := range n.idx.Records {
		if _, ok := remote[p]; !ok && !refused[p] {
			changed = append(changed, wire.Entry{Op: wire.OpDelete, Path: p})
		}
	}
	if len(changed) == 0 {
		return nil
	}
	slices.SortFunc(changed, func(a, b wire.Entry) int { return compareStrings(a.Path, b.Path) })
	return n.pullEntries(ctx, changed)
}

// manifest asks the session for its whole tree; entries that break the
// rules are reported and returned apart (their paths are not touched).
func (n *Native) manifest(ctx context.Context) (map[string]wire.Entry, map[string]bool, error) {
	remote := map[string]wire.Entry{}
	refused := map[string]bool{}
	policy := n.ws.Policy()
	done, err := n.link.request(wire.RequestManifest, wire.BatchManifest, nil, func(start wire.Start, r *wire.Reader) error {
		return readItems(r, start, policy.Limits.MaxBatchEntries, func(typ byte, p []byte) error {
			if typ != wire.FrameEntry {
				return fmt.Errorf("%w: frame %q in a manifest", wire.ErrProtocol, typ)
			}
			e, err := wire.DecodeEntry(p)
			if err != nil {
				return err
			}
			if e.Op != wire.OpPut {
				return fmt.Errorf("%w: %s entry in a manifest", wire.ErrProtocol, e.Op)
			}
			if ref := policy.CheckEntry(&e); ref != nil {
				n.report(*ref)
				refused[e.Path] = true
				return nil
			}
			if _, dup := remote[e.Path]; dup {
				n.report(guard.Refusal{Rule: guard.RuleProtocol, Path: e.Path, Detail: "listed twice in the manifest"})
				return nil
			}
			remote[e.Path] = e
			return nil
		})
	})
	if err != nil {
		return nil, nil, err
	}
	if err := n.link.wait(ctx, done); err != nil {
		return nil, nil, err
	}
	return remote, refused, nil
}

func (n *Native) saveIndex() error {
	if !n.idxDirty {
		return nil
	}
	if err := n.idx.save(n.indexPath()); err != nil {
		return err
	}
	n.idxDirty = false
	return nil
}
