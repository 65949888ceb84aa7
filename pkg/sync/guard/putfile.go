package guard

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

func tempName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return tree.TempPrefix + hex.EncodeToString(b[:])
}

// PutFile writes e.Size bytes from content as the regular file e.Path,
// atomically: into a temporary file beside it, then renamed over it. After
// the content, finish reads the sender's trailer; keep=false discards the
// file (ErrChanged). The result is the file's stat as written.
func (w *Workspace) PutFile(e *wire.Entry, content io.Reader, finish func() (keep bool, err error)) (wire.Entry, error) {
	pd, name, release, err := w.prepare(e.Path)
	if err != nil {
		return wire.Entry{}, err
	}
	defer release()
	const create = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	// In the session, where nobody needs to never see a half-written
	// file, a new file is written in place as tar would: one try, and a
	// stat only if something is there.
	var existing wire.Entry
	exists := true
	tmp := name
	fd := -1
	if w.policy.WriteInPlace {
		fd, err = unix.Openat(pd.FD(), name, create, filePerm(e.Mode, wire.Entry{}, false))
		exists = err != nil
	}
	if exists {
		// Into a temporary name and renamed over the target.
		existing, exists, err = pd.Lstat(name, e.Path)
		if err != nil {
			return wire.Entry{}, err
		}
		tmp = tempName()
		fd, err = unix.Openat(pd.FD(), tmp, create, filePerm(e.Mode, existing, exists && existing.Kind == wire.KindFile))
		if err != nil {
			return wire.Entry{}, fmt.Errorf("failed to create a file beside %s: %w", Printable(e.Path), err)
		}
	}
	perm := filePerm(e.Mode, existing, exists && existing.Kind == wire.KindFile)
	f := os.NewFile(uintptr(fd), tmp)
	discard := func() { _ = f.Close(); _ = unix.Unlinkat(pd.FD(), tmp, 0) }
	if _, err := io.CopyN(f, content, e.Size); err != nil {
		discard()
		return wire.Entry{}, fmt.Errorf("failed to write %s: %w", Printable(e.Path), err)
	}
	keep, err := finish()
	if err != nil || !keep {
		discard()
		if err == nil {
			err = ErrChanged
		}
		return wire.Entry{}, err
	}
	if err := setMtime(pd, tmp, e.Mtime); err != nil {
		discard()
		return wire.Entry{}, err
	}
	st, err := tree.StatOf(f, e.Path)
	if err == nil && st.Mode&0o7777 != perm {
		// The umask took bits away, or the file existed with others.
		if err = f.Chmod(os.FileMode(perm)); err == nil {
			st.Mode = perm
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = unix.Unlinkat(pd.FD(), tmp, 0)
		return wire.Entry{}, err
	}
	if tmp == name {
		parentRel, _ := tree.SplitParent(e.Path)
		w.noteName(parentRel, name)
		return st, nil
	}
	if exists && existing.Kind == wire.KindDir {
		if err := unix.Unlinkat(pd.FD(), name, unix.AT_REMOVEDIR); err != nil {
			_ = unix.Unlinkat(pd.FD(), tmp, 0)
			return wire.Entry{}, fmt.Errorf("cannot replace directory %s with a file: %w", Printable(e.Path), ErrNotEmpty)
		}
		w.invalidate()
	}
	if err := unix.Renameat(pd.FD(), tmp, pd.FD(), name); err != nil {
		_ = unix.Unlinkat(pd.FD(), tmp, 0)
		return wire.Entry{}, fmt.Errorf("failed to put %s in place: %w", Printable(e.Path), err)
	}
	parentRel, _ := tree.SplitParent(e.Path)
	w.noteName(parentRel, name)
	return st, nil
}

// filePerm keeps an existing file's permission bits and takes only the
// executable bit from the sender; a new file gets 0644 or 0755. Nothing
// from the session can make a file group- or world-writable.
func filePerm(mode uint32, existing wire.Entry, exists bool) uint32 {
	exec := mode&0o111 != 0
	if !exists {
		if exec {
			return 0o755
		}
		return 0o644
	}
	perm := existing.Mode & wire.ModePerm
	if exec {
		perm |= (perm & 0o444) >> 2
	} else {
		perm &^= 0o111
	}
	return perm
}

func setMtime(d *tree.Dir, name string, mtime int64) error {
	if mtime == 0 {
		mtime = time.Now().UnixNano()
	}
	// The access time is set to the same instant: sync does not track it.
	ts := []unix.Timespec{unix.NsecToTimespec(mtime), unix.NsecToTimespec(mtime)}
	return unix.UtimesNanoAt(d.FD(), name, ts, unix.AT_SYMLINK_NOFOLLOW)
}
