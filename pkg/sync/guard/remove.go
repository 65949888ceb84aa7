package guard

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// Remove deletes rel; a directory is removed with everything below it
// except what is never synced (.git, excluded paths) and what keep
// returns true for (the engine keeps local changes the session has not
// seen). kept reports whether anything stayed, in which case the
// directory stays too. A missing path is not an error.
func (w *Workspace) Remove(rel string, keep func(e wire.Entry) bool) (kept bool, err error) {
	if r := CheckPath(rel); r != nil {
		return false, r
	}
	defer w.invalidate()
	pd, name, release, err := w.parent(rel, false)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, err
	}
	defer release()
	e, ok, err := pd.Lstat(name, rel)
	if err != nil || !ok {
		return false, err
	}
	parentRel, _ := tree.SplitParent(rel)
	if keep != nil && keep(e) {
		return true, nil
	}
	if e.Kind != wire.KindDir {
		if err := unix.Unlinkat(pd.FD(), name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return false, fmt.Errorf("failed to delete %s: %w", Printable(rel), err)
		}
		w.forgetName(parentRel, name)
		return false, nil
	}
	kept, err = w.removeTree(pd, name, rel, keep)
	if err == nil && !kept {
		w.forgetName(parentRel, name)
	}
	return kept, err
}

func (w *Workspace) removeTree(pd *tree.Dir, name, rel string, keep func(e wire.Entry) bool) (bool, error) {
	sub, err := pd.Sub(name)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, err
	}
	names, err := sub.Names()
	if err != nil {
		_ = sub.Close()
		return false, err
	}
	kept := false
	for _, child := range names {
		childRel := rel + "/" + child
		ce, ok, err := sub.Lstat(child, childRel)
		if err != nil {
			_ = sub.Close()
			return false, err
		}
		if !ok {
			continue
		}
		if tree.Protected(child) || w.policy.Excludes.Match(childRel, ce.Kind == wire.KindDir) || (keep != nil && keep(ce)) {
			kept = true
			continue
		}
		if ce.Kind == wire.KindDir {
			k, err := w.removeTree(sub, child, childRel, keep)
			if err != nil {
				_ = sub.Close()
				return false, err
			}
			kept = kept || k
			continue
		}
		if err := unix.Unlinkat(sub.FD(), child, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			_ = sub.Close()
			return false, fmt.Errorf("failed to delete %s: %w", Printable(childRel), err)
		}
	}
	_ = sub.Close()
	if kept {
		return true, nil
	}
	if err := unix.Unlinkat(pd.FD(), name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		if errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
			// Something appeared meanwhile: it stays.
			return true, nil
		}
		return false, fmt.Errorf("failed to delete directory %s: %w", Printable(rel), err)
	}
	return false, nil
}

// Rename moves from to to. A directory that holds a .git directory is not
// moved (that would rewrite where a repository lives): the caller falls
// back to a delete and a fresh copy, which keeps the .git in place.
func (w *Workspace) Rename(from, to string) (wire.Entry, error) {
	if r := CheckPath(from); r != nil {
		return wire.Entry{}, r
	}
	defer w.invalidate()
	fpd, fname, frelease, err := w.parentUncached(from, false)
	if err != nil {
		return wire.Entry{}, err
	}
	defer frelease()
	e, ok, err := fpd.Lstat(fname, from)
	if err != nil {
		return wire.Entry{}, err
	}
	if !ok {
		return wire.Entry{}, fmt.Errorf("cannot rename %s: %w", Printable(from), unix.ENOENT)
	}
	// A symlink is checked where it is made: moved, a relative target
	// climbs from another directory. So symlinks, and directories that
	// hold one, are not moved: the caller copies them afresh, and each
	// link is checked at its new place.
	// (The helper in the session, which lets links point anywhere, moves
	// them.)
	hostSide := !w.policy.AllowSymlinkEscape
	if hostSide && e.Kind == wire.KindSymlink {
		return wire.Entry{}, ErrCopyInstead
	}
	if e.Kind == wire.KindDir {
		links, git, err := holds(fpd, fname, hostSide)
		switch {
		case err != nil:
			return wire.Entry{}, err
		case links:
			return wire.Entry{}, ErrCopyInstead
		case git:
			return wire.Entry{}, refuse(RuleGitDir, from, "the directory holds a .git directory: not moved")
		}
	}
	tpd, tname, trelease, err := w.prepare(to)
	if err != nil {
		return wire.Entry{}, err
	}
	defer trelease()
	if err := unix.Renameat(fpd.FD(), fname, tpd.FD(), tname); err != nil {
		return wire.Entry{}, fmt.Errorf("failed to rename %s to %s: %w", Printable(from), Printable(to), err)
	}
	fparent, _ := tree.SplitParent(from)
	tparent, _ := tree.SplitParent(to)
	w.forgetName(fparent, fname)
	w.noteName(tparent, tname)
	st, _, err := tpd.Lstat(tname, to)
	return st, err
}

// ErrCopyInstead is Rename's answer for what it does not move (a symlink,
// a directory holding one): the caller deletes and copies instead.
var ErrCopyInstead = errors.New("not moved: copied instead")

// holds reports whether the directory name below d has, anywhere inside
// it, a symlink (looked for only when links is set) or a .git entry. One
// walk answers both; it stops once nothing it looks for is left unknown.
func holds(d *tree.Dir, name string, links bool) (link, git bool, err error) {
	sub, err := d.Sub(name)
	if err != nil {
		return false, false, err
	}
	defer func() { _ = sub.Close() }()
	names, err := sub.Names()
	if err != nil {
		return false, false, err
	}
	for _, n := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(sub.FD(), n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return false, false, err
		}
		link = link || links && st.Mode&unix.S_IFMT == unix.S_IFLNK
		git = git || tree.IsGitName(n)
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			l, g, err := holds(sub, n, links)
			if err != nil {
				return false, false, err
			}
			link, git = link || l, git || g
		}
		if git && (link || !links) {
			return link, git, nil
		}
	}
	return link, git, nil
}
