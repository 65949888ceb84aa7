package tree

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/paude-dev/paude/pkg/sync/wire"
)

// Walk calls fn for every path below d's start directory that x does not
// exclude, parents before children, in lexical order within a directory.
// start ("" for the whole tree) is a relative directory; it is not
// reported itself. Directories are opened with O_NOFOLLOW, so a symlink
// is reported as a symlink and never descended into, even if it is
// swapped in during the walk. Objects that vanish during the walk are
// skipped.
func Walk(d *Dir, start string, x *Excludes, fn func(e wire.Entry) error) error {
	sd, release, err := d.Walk(start)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, ErrSymlinkAncestor) || errors.Is(err, ErrNotDirAncestor) {
			return nil
		}
		return err
	}
	defer release()
	var parts []string
	if start != "" {
		parts = strings.Split(start, "/")
	}
	return walkDir(sd, start, parts, x, fn)
}

func walkDir(d *Dir, rel string, parts []string, x *Excludes, fn func(e wire.Entry) error) error {
	names, err := d.Names()
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("failed to read directory %q: %w", rel, err)
	}
	for _, name := range names {
		childRel := name
		if rel != "" {
			childRel = rel + "/" + name
		}
		e, ok, err := d.Lstat(name, childRel)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		isDir := e.Kind == wire.KindDir
		if x.MatchName(parts, name, isDir) {
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
		if !isDir {
			continue
		}
		sub, err := d.Sub(name)
		if err != nil {
			// Replaced by something else since the lstat: skip it; a
			// watcher reports the change.
			continue
		}
		err = walkDir(sub, childRel, append(parts[:len(parts):len(parts)], name), x, fn)
		_ = sub.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// HashPath returns the SHA-256 of the regular file at rel below d,
// without following a symlink anywhere on the way.
func HashPath(d *Dir, rel string) ([32]byte, error) {
	var sum [32]byte
	parent, name := SplitParent(rel)
	pd, release, err := d.Walk(parent)
	if err != nil {
		return sum, err
	}
	defer release()
	f, err := pd.OpenFile(name)
	if err != nil {
		return sum, err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// WalkDirs calls fn for every directory below d's start directory that x
// does not exclude, parents first, without a stat per file: what a
// watcher needs to place its watches on a large tree quickly.
func WalkDirs(d *Dir, start string, x *Excludes, fn func(rel string) error) error {
	sd, release, err := d.Walk(start)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, ErrSymlinkAncestor) || errors.Is(err, ErrNotDirAncestor) {
			return nil
		}
		return err
	}
	defer release()
	var parts []string
	if start != "" {
		parts = strings.Split(start, "/")
	}
	return walkDirs(sd, start, parts, x, fn)
}

func walkDirs(d *Dir, rel string, parts []string, x *Excludes, fn func(rel string) error) error {
	names, err := d.Subdirs()
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("failed to read directory %q: %w", rel, err)
	}
	for _, name := range names {
		if x.MatchName(parts, name, true) {
			continue
		}
		childRel := name
		if rel != "" {
			childRel = rel + "/" + name
		}
		sub, err := d.Sub(name)
		if err != nil {
			continue
		}
		err = fn(childRel)
		if err == nil {
			err = walkDirs(sub, childRel, append(parts[:len(parts):len(parts)], name), x, fn)
		}
		_ = sub.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
