package sync

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/paude-dev/paude/pkg/sync/agent"
	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// pushItem is one entry for the session and the local state it carries.
type pushItem struct {
	e     wire.Entry
	local wire.Entry
}

// syncable reports whether sync carries objects of this kind at all.
func syncable(k wire.Kind) bool {
	return k == wire.KindFile || k == wire.KindDir || k == wire.KindSymlink
}

// planLocal turns changed local paths into push items, comparing each
// with the index: unchanged paths (including the echo of what sync wrote
// itself) are skipped. A delete and a new path with the same inode become
// a rename, so a moved file or directory is not sent again.
func (n *Native) planLocal(paths []string) []pushItem {
	states := make([]localState, 0, len(paths))
	seen := make(map[string]bool, len(paths))
	for _, p := range paths {
		// One item per path: a second one would expect the state the
		// first replaces and come back as a conflict with ourselves.
		if seen[p] {
			continue
		}
		seen[p] = true
		l, ok, err := n.ws.Dir().LstatPath(p)
		if err != nil {
			continue
		}
		if ok && (!syncable(l.Kind) || n.x.Match(p, l.Kind == wire.KindDir)) {
			continue
		}
		if !ok && n.x.Match(p, false) {
			continue
		}
		_, forced := n.force[p]
		delete(n.force, p)
		states = append(states, localState{p: p, l: l, ok: ok, forced: forced})
	}
	// Renames first: moving the index makes the children of a renamed
	// directory compare as unchanged below.
	renames, moved := n.pairRenames(states)
	var dels, puts []pushItem
	for _, s := range states {
		if moved[s.p] {
			continue
		}
		rec := n.idx.Records[s.p]
		switch {
		case !s.ok && rec == nil && !s.forced:
		case !s.ok:
			var x wire.Expect
			if rec != nil {
				x = rec.Remote.expect()
			}
			x.Any = s.forced
			dels = append(dels, pushItem{e: wire.Entry{Op: wire.OpDelete, Path: s.p, Expect: x}})
		case rec != nil && rec.Local.same(s.l, true) && !s.forced:
		default:
			it := pushItem{e: s.l, local: s.l}
			it.e.Expect = wire.Expect{}
			if rec != nil {
				it.e.Expect = rec.Remote.expect()
			}
			it.e.Expect.Any = s.forced
			puts = append(puts, it)
		}
	}
	return orderItems(dels, append(renames, puts...))
}

// localState is one changed local path as planLocal found it.
type localState struct {
	p      string
	l      wire.Entry
	ok     bool
	forced bool
}

// pairRenames finds, among new local paths, those whose inode belonged to
// an indexed path that is gone: renames. It moves the index at once and
// returns the rename items and the paths they cover.
func (n *Native) pairRenames(states []localState) ([]pushItem, map[string]bool) {
	gone := map[uint64]string{}
	for _, s := range states {
		if rec := n.idx.Records[s.p]; !s.ok && !s.forced && rec != nil && rec.Local.Ino != 0 {
			gone[rec.Local.Ino] = s.p
		}
	}
	moved := map[string]bool{}
	if len(gone) == 0 {
		return nil, moved
	}
	var renames []pushItem
	for _, s := range states {
		p, l := s.p, s.l
		from, found := gone[l.Ino]
		if !s.ok || s.forced || !found || n.idx.Records[p] != nil {
			continue
		}
		old := n.idx.Records[from]
		if old.Local.Kind != l.Kind || (l.Kind == wire.KindFile && !old.Local.same(l, true)) {
			continue
		}
		delete(gone, l.Ino)
		moved[p], moved[from] = true, true
		renames = append(renames, pushItem{
			e:     wire.Entry{Op: wire.OpRename, Kind: l.Kind, Path: p, Target: from, Expect: old.Remote.expect()},
			local: l,
		})
		n.idx.move(from, p)
	}
	return renames, moved
}

// orderItems puts deletes first, deepest first, dropping those under a
// deleted directory; then everything else parents first.
func orderItems(dels, puts []pushItem) []pushItem {
	slices.SortFunc(dels, func(a, b pushItem) int { return strings.Compare(a.e.Path, b.e.Path) })
	out := make([]pushItem, 0, len(dels)+len(puts))
	deleted := make(map[string]bool, len(dels))
	for _, d := range dels {
		covered := false
		for p := d.e.Path; !covered; {
			i := strings.LastIndexByte(p, '/')
			if i < 0 {
				break
			}
			p = p[:i]
			covered = deleted[p]
		}
		if !covered {
			deleted[d.e.Path] = true
			out = append(out, d)
		}
	}
	slices.Reverse(out)
	slices.SortStableFunc(puts, func(a, b pushItem) int { return strings.Compare(a.e.Path, b.e.Path) })
	return append(out, puts...)
}

// push sends items as one apply batch, waits for the session's ack and
// records the results in the index. Items the session refused because it
// had changed them meanwhile are returned.
func (n *Native) push(ctx context.Context, items []pushItem, prog *progress) ([]pushItem, error) {
	if len(items) == 0 {
		return nil, nil
	}
	l := n.link
	id := l.nextID.Add(1)
	w := l.push.w
	dirs := tree.NewDirCache(n.ws.Dir())
	defer dirs.Close()
	if err := w.Start(wire.Start{Kind: wire.BatchApply, ID: id, Count: uint32(len(items))}); err != nil {
		return nil, l.push.explain(err)
	}
	for i := range items {
		if err := n.sendItem(w, dirs, &items[i]); err != nil {
			return nil, l.push.explain(err)
		}
		prog.add(1, items[i].e.Size)
	}
	if err := w.End(id); err != nil {
		return nil, l.push.explain(err)
	}
	if err := w.Flush(); err != nil {
		return nil, l.push.explain(err)
	}
	var ack ackBatch
	select {
	case ack = <-l.acks:
	case <-l.dead:
		return nil, l.deadErr
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if ack.id != id || len(ack.results) != len(items) {
		l.protocol(fmt.Sprintf("ack %d with %d results for batch %d of %d", ack.id, len(ack.results), id, len(items)))
		return nil, l.deadErr
	}
	var conflicts []pushItem
	for i, res := range ack.results {
		it := items[i]
		if res.Path != it.e.Path {
			l.protocol("ack results out of order")
			return nil, l.deadErr
		}
		switch {
		case res.OK:
			n.recordPush(it, res)
		case res.Conflict:
			if it.e.Op == wire.OpRename {
				// Undo the optimistic move; the paths are compared again.
				n.idx.move(it.e.Path, it.e.Target)
			}
			conflicts = append(conflicts, it)
		case res.Err == guard.ErrChanged.Error():
			// The local file changed while it was read: a new event follows.
		default:
			n.warn(fmt.Sprintf("could not apply %s in the session: %s", guard.Printable(it.e.Path), guard.Printable(res.Err)))
		}
	}
	n.idxDirty = true
	return conflicts, nil
}

func (n *Native) recordPush(it pushItem, res wire.Result) {
	switch it.e.Op {
	case wire.OpDelete:
		n.idx.drop(it.e.Path)
	default:
		remote := side{Kind: res.Kind, Size: res.Size, Mtime: res.Mtime, Mode: res.Mode, Ino: res.Ino, Target: it.e.Target}
		if it.e.Op == wire.OpRename {
			remote.Target = it.local.Target
		}
		n.idx.Records[it.e.Path] = &record{Local: sideOf(it.local), Remote: remote}
	}
}

// sendItem writes one entry; a file is opened without following symlinks
// and sent with the stat of the open descriptor.
func (n *Native) sendItem(w *wire.Writer, dirs *tree.DirCache, it *pushItem) error {
	if it.e.Op != wire.OpPut || it.e.Kind != wire.KindFile {
		return w.Entry(&it.e)
	}
	parent, name := tree.SplitParent(it.e.Path)
	pd, err := dirs.Dir(parent)
	if err == nil {
		f, st, ferr := pd.OpenFileStat(name, it.e.Path)
		if ferr == nil {
			defer func() { _ = f.Close() }()
			expect := it.e.Expect
			it.e, it.local = st, st
			it.e.Expect = expect
			return agent.SendFile(w, f, it.e)
		}
	}
	// Gone or swapped since it was planned: send nothing the session
	// would keep.
	e := it.e
	e.Size = 0
	if err := w.Entry(&e); err != nil {
		return err
	}
	return w.Trailer(wire.TrailerChanged)
}
