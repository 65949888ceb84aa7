package tree

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/paude-dev/paude/pkg/sync/wire"
)

// Dir is an open directory that names are resolved against with the *at
// system calls, never following a symlink: a path below a Dir is walked
// one component at a time with O_NOFOLLOW, so a symlink planted anywhere
// on the way is seen, not followed. Both ends of sync read and write the
// workspace only through Dirs.
type Dir struct {
	fd int
}

// ErrSymlinkAncestor is returned when a path's parent chain contains a
// symlink: sync never reads or writes through one.
var ErrSymlinkAncestor = errors.New("a parent directory is a symlink")

// ErrNotDirAncestor is returned when a path's parent chain contains an
// object that is not a directory.
var ErrNotDirAncestor = errors.New("a parent is not a directory")

// OpenRoot opens the directory at path (following symlinks in path
// itself: the root is the user's choice).
func OpenRoot(path string) (*Dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &Dir{fd: fd}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return unix.Close(d.fd) }

// FD returns the descriptor, for *at calls in other packages.
func (d *Dir) FD() int { return d.fd }

// ErrBadName is returned for a component that is not a plain name:
// empty, ".", ".." or containing a slash. Callers check paths first; this
// is the last line.
var ErrBadName = errors.New("not a plain file name")

func plainName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || strings.ContainsRune(name, 0) {
		return ErrBadName
	}
	return nil
}

// Sub opens the child directory name without following a symlink.
func (d *Dir) Sub(name string) (*Dir, error) {
	if err := plainName(name); err != nil {
		return nil, err
	}
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, ErrSymlinkAncestor
		}
		if errors.Is(err, unix.ENOTDIR) {
			// O_DIRECTORY|O_NOFOLLOW on a symlink gives ENOTDIR on some
			// systems: tell the two apart.
			var st unix.Stat_t
			if unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				return nil, ErrSymlinkAncestor
			}
			return nil, ErrNotDirAncestor
		}
		return nil, err
	}
	return &Dir{fd: fd}, nil
}

// Walk opens the directory at the slash-separated relative path rel,
// component by component. The caller closes the result (which may be d
// itself for rel == ""; Close on it is then a no-op via the returned
// release func).
func (d *Dir) Walk(rel string) (*Dir, func(), error) {
	if rel == "" || rel == "." {
		return d, func() {}, nil
	}
	cur := d
	for _, name := range strings.Split(rel, "/") {
		next, err := cur.Sub(name)
		if cur != d {
			_ = cur.Close()
		}
		if err != nil {
			return nil, nil, err
		}
		cur = next
	}
	return cur, func() { _ = cur.Close() }, nil
}

// Lstat describes the child name (not following a symlink); ok is false
// when it does not exist.
func (d *Dir) Lstat(name, rel string) (e wire.Entry, ok bool, err error) {
	if err := plainName(name); err != nil {
		return wire.Entry{}, false, err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return wire.Entry{}, false, nil
		}
		return wire.Entry{}, false, &os.PathError{Op: "lstat", Path: rel, Err: err}
	}
	e = entryOfStat(rel, &st)
	if e.Kind == wire.KindSymlink {
		t, err := d.Readlink(name)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return wire.Entry{}, false, nil
			}
			return wire.Entry{}, false, &os.PathError{Op: "readlink", Path: rel, Err: err}
		}
		e.Target = t
	}
	return e, true, nil
}

// Readlink reads the target of the symlink name.
func (d *Dir) Readlink(name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(d.fd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size > 1<<16 {
			return "", fmt.Errorf("symlink target longer than %d bytes", size)
		}
	}
}

// Names lists the directory's entries (without "." and ".."), sorted.
func (d *Dir) Names() ([]string, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "dir")
	defer func() { _ = f.Close() }()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}

// Subdirs lists the directory's subdirectories by the type the kernel
// reports in the listing (no stat per entry), sorted. Symlinks are not
// among them.
func (d *Dir) Subdirs() ([]string, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "dir")
	defer func() { _ = f.Close() }()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	slices.Sort(dirs)
	return dirs, nil
}

// OpenFile opens the regular file name for reading without following a
// symlink.
func (d *Dir) OpenFile(name string) (*os.File, error) {
	f, _, err := d.OpenFileStat(name, name)
	return f, err
}

// OpenFileStat is OpenFile that also returns the open file's stat as an
// entry for rel.
func (d *Dir) OpenFileStat(name, rel string) (*os.File, wire.Entry, error) {
	if err := plainName(name); err != nil {
		return nil, wire.Entry{}, err
	}
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, wire.Entry{}, err
	}
	f := os.NewFile(uintptr(fd), name)
	// O_NONBLOCK keeps a FIFO swapped in from hanging the open; a regular
	// file ignores it, and anything else is refused here.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		_ = f.Close()
		return nil, wire.Entry{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		_ = f.Close()
		return nil, wire.Entry{}, fmt.Errorf("%s is no longer a regular file", name)
	}
	return f, entryOfStat(rel, &st), nil
}

// StatOf converts an open file's stat to an entry for rel.
func StatOf(f *os.File, rel string) (wire.Entry, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return wire.Entry{}, err
	}
	return entryOfStat(rel, &st), nil
}

func entryOfStat(rel string, st *unix.Stat_t) wire.Entry {
	mode := uint32(st.Mode) //nolint:unconvert // uint16 on darwin
	e := wire.Entry{
		Op:    wire.OpPut,
		Path:  rel,
		Mode:  mode & 0o7777,
		Mtime: st.Mtim.Nano(),
		Ino:   uint64(st.Ino), //nolint:unconvert // uint32 on some platforms
	}
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		e.Kind = wire.KindFile
		e.Size = st.Size
	case unix.S_IFDIR:
		e.Kind = wire.KindDir
		// A directory's mtime changes with its contents: not its state.
		e.Mtime = 0
	case unix.S_IFLNK:
		e.Kind = wire.KindSymlink
		// A symlink's mtime cannot be set portably: not its state.
		e.Mtime = 0
	case unix.S_IFIFO:
		e.Kind = wire.KindFIFO
	case unix.S_IFSOCK:
		e.Kind = wire.KindSocket
	case unix.S_IFCHR:
		e.Kind = wire.KindCharDevice
	default:
		e.Kind = wire.KindBlockDevice
	}
	return e
}

// SplitParent splits a relative path into its parent ("" for the root)
// and last component.
func SplitParent(rel string) (parent, name string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}

// LstatPath describes the object at rel below d without following any
// symlink on the way; ok is false when nothing is there or a parent is
// not a plain directory (then nothing below it is synced either).
func (d *Dir) LstatPath(rel string) (wire.Entry, bool, error) {
	parent, name := SplitParent(rel)
	pd, release, err := d.Walk(parent)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, ErrSymlinkAncestor) || errors.Is(err, ErrNotDirAncestor) {
			return wire.Entry{}, false, nil
		}
		return wire.Entry{}, false, err
	}
	defer release()
	return pd.Lstat(name, rel)
}

// DirCache keeps the directory a run of reads last used open: files come
// sorted, so most share their directory with the one before.
type DirCache struct {
	root *Dir
	rel  string
	d    *Dir
}

// NewDirCache returns a cache below root.
func NewDirCache(root *Dir) *DirCache { return &DirCache{root: root} }

// Dir returns the directory at rel (walked without following symlinks);
// it stays valid until the next call or Close.
func (c *DirCache) Dir(rel string) (*Dir, error) {
	if rel == "" {
		return c.root, nil
	}
	if c.d != nil && c.rel == rel {
		return c.d, nil
	}
	d, _, err := c.root.Walk(rel)
	if err != nil {
		return nil, err
	}
	c.Close()
	c.rel, c.d = rel, d
	return d, nil
}

// Close releases the cached directory.
func (c *DirCache) Close() {
	if c.d != nil {
		_ = c.d.Close()
	}
	c.rel, c.d = "", nil
}
