package sync

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/paude-dev/paude/pkg/sync/wire"
)

// side is what one side's object looked like when the two were last in
// step.
type side struct {
	Kind   wire.Kind
	Size   int64
	Mtime  int64
	Mode   uint32
	Ino    uint64
	Target string
}

func sideOf(e wire.Entry) side {
	return side{Kind: e.Kind, Size: e.Size, Mtime: e.Mtime, Mode: e.Mode, Ino: e.Ino, Target: e.Target}
}

// same reports whether the object e (ok=false: none) is unchanged since
// s was recorded. Only what sync carries counts: kind, a file's size,
// mtime and executable bit, a symlink's target.
func (s side) same(e wire.Entry, ok bool) bool {
	if !ok || e.Kind != s.Kind {
		return false
	}
	switch s.Kind {
	case wire.KindFile:
		return e.Size == s.Size && e.Mtime == s.Mtime && (e.Mode&0o111 != 0) == (s.Mode&0o111 != 0)
	case wire.KindSymlink:
		return e.Target == s.Target
	}
	return true
}

// expect is the precondition a push puts on the session's object.
func (s side) expect() wire.Expect {
	return wire.Expect{Kind: s.Kind, Size: s.Size, Mtime: s.Mtime}
}

// record is one synced path: both sides as of the last sync.
type record struct {
	Local, Remote side
}

// index is the last synced state of every path, kept between runs under
// the user's cache directory so that a resume can tell who changed what.
type index struct {
	Version    int
	LocalRoot  string
	RemoteRoot string
	Records    map[string]*record
}

const indexVersion = 1

func newIndex(localRoot, remoteRoot string) *index {
	return &index{Version: indexVersion, LocalRoot: localRoot, RemoteRoot: remoteRoot, Records: map[string]*record{}}
}

// loadIndex reads the index, or returns an empty one when there is none
// or it belongs to other roots.
func loadIndex(path, localRoot, remoteRoot string) (*index, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newIndex(localRoot, remoteRoot), nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read sync state %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	var idx index
	if err := gob.NewDecoder(f).Decode(&idx); err != nil || idx.Version != indexVersion ||
		idx.LocalRoot != localRoot || idx.RemoteRoot != remoteRoot || idx.Records == nil {
		// Unreadable or another workspace's: start as on a first sync
		// (local wins), which never deletes anything.
		return newIndex(localRoot, remoteRoot), nil
	}
	return &idx, nil
}

// save writes the index atomically, readable only by the user.
func (x *index) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("failed to create the sync state directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".index-*")
	if err != nil {
		return fmt.Errorf("failed to save sync state: %w", err)
	}
	err = gob.NewEncoder(tmp).Encode(x)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("failed to save sync state: %w", err)
	}
	return nil
}

// drop forgets rel and everything below it.
func (x *index) drop(rel string) {
	delete(x.Records, rel)
	prefix := rel + "/"
	for p := range x.Records {
		if strings.HasPrefix(p, prefix) {
			delete(x.Records, p)
		}
	}
}

// move renames rel and everything below it.
func (x *index) move(from, to string) {
	if r, ok := x.Records[from]; ok {
		delete(x.Records, from)
		x.Records[to] = r
	}
	prefix := from + "/"
	moved := map[string]*record{}
	for p, r := range x.Records {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			delete(x.Records, p)
			moved[to+"/"+rest] = r
		}
	}
	for p, r := range moved {
		x.Records[p] = r
	}
}
