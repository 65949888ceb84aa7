package wire

import (
	"encoding/binary"
	"fmt"
	"io/fs"
)

// Kind is the type of a file system object, as the sender saw it. The
// wire carries every kind a file system has so that a receiver can refuse
// the ones it does not sync (hard links, devices, FIFOs, sockets) by name.
type Kind uint8

// Kinds.
const (
	KindFile Kind = 1 + iota
	KindDir
	KindSymlink
	KindHardlink
	KindCharDevice
	KindBlockDevice
	KindFIFO
	KindSocket
)

func (k Kind) String() string {
	names := map[Kind]string{
		KindFile: "file", KindDir: "directory", KindSymlink: "symlink", KindHardlink: "hard link",
		KindCharDevice: "character device", KindBlockDevice: "block device", KindFIFO: "FIFO", KindSocket: "socket",
	}
	if n, ok := names[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// KindOf maps a file mode to a Kind.
func KindOf(m fs.FileMode) Kind {
	switch {
	case m.IsRegular():
		return KindFile
	case m.IsDir():
		return KindDir
	case m&fs.ModeSymlink != 0:
		return KindSymlink
	case m&fs.ModeNamedPipe != 0:
		return KindFIFO
	case m&fs.ModeSocket != 0:
		return KindSocket
	case m&fs.ModeCharDevice != 0:
		return KindCharDevice
	default:
		return KindBlockDevice
	}
}

// Op is what an entry asks for.
type Op uint8

// Ops.
const (
	// OpPut creates or replaces Path with an object of Kind.
	OpPut Op = 1 + iota
	// OpDelete removes Path (a notify entry with OpDelete says it is gone).
	OpDelete
	// OpRename moves Target (the old path) to Path.
	OpRename
)

func (o Op) String() string {
	switch o {
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpRename:
		return "rename"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Unix permission and special bits, as carried in Entry.Mode (the
// st_mode low 12 bits, independent of Go's fs.FileMode layout).
const (
	ModeSetuid = 0o4000
	ModeSetgid = 0o2000
	ModeSticky = 0o1000
	ModePerm   = 0o777
)

// UnixMode converts Go's fs.FileMode permission and special bits to the
// wire's st_mode-style bits.
func UnixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= ModeSetuid
	}
	if m&fs.ModeSetgid != 0 {
		u |= ModeSetgid
	}
	if m&fs.ModeSticky != 0 {
		u |= ModeSticky
	}
	return u
}

// Entry is one path's state or one change to it. Paths are slash-separated
// and relative to the synced root.
type Entry struct {
	Op   Op
	Kind Kind
	Path string
	// Mode holds permission and special bits (ModeSetuid, ...).
	Mode uint32
	// Size is the content length of a file; content batches carry exactly
	// this many bytes after the entry.
	Size int64
	// Mtime is the modification time in nanoseconds since the epoch.
	Mtime int64
	// Ino is the sender's inode number, for rename detection only.
	Ino uint64
	// Target is a symlink's target, a hard link's other path, or a
	// rename's old path.
	Target string
	// Expect is, in an apply batch, the state the host last saw the
	// session's object in; the helper applies the entry only if the object
	// is still in that state, so a change made in the session meanwhile is
	// never overwritten unseen.
	Expect Expect
}

// Expect is a precondition on the session's object at an entry's path
// (for a rename, at the old path; the new path must be free).
type Expect struct {
	// Any applies the entry whatever is there.
	Any bool
	// Kind is the expected kind; 0 means nothing may be there.
	Kind Kind
	// Size and Mtime must match for a file.
	Size  int64
	Mtime int64
}

// Matches reports whether the object described by have (ok=false: none)
// meets the expectation.
func (x Expect) Matches(have Entry, ok bool) bool {
	switch {
	case x.Any:
		return true
	case x.Kind == 0:
		return !ok
	case !ok || have.Kind != x.Kind:
		return false
	case x.Kind == KindFile:
		return have.Size == x.Size && have.Mtime == x.Mtime
	}
	return true
}

func (e *Entry) append(b []byte) []byte {
	b = append(b, byte(e.Op), byte(e.Kind))
	b = binary.BigEndian.AppendUint32(b, e.Mode)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Size))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Mtime))
	b = binary.BigEndian.AppendUint64(b, e.Ino)
	b = appendString(b, e.Path)
	b = appendString(b, e.Target)
	anyFlag := byte(0)
	if e.Expect.Any {
		anyFlag = 1
	}
	b = append(b, anyFlag, byte(e.Expect.Kind))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Expect.Size))
	return binary.BigEndian.AppendUint64(b, uint64(e.Expect.Mtime))
}

// MaxString is the longest path or symlink target an entry may carry.
const MaxString = 8192

// DecodeEntry decodes an entry frame's payload.
func DecodeEntry(p []byte) (Entry, error) {
	d := decoder{p: p}
	e := Entry{Op: Op(d.u8()), Kind: Kind(d.u8()), Mode: d.u32()}
	e.Size = int64(d.u64())
	e.Mtime = int64(d.u64())
	e.Ino = d.u64()
	e.Path = d.str()
	e.Target = d.str()
	e.Expect.Any = d.u8() == 1
	e.Expect.Kind = Kind(d.u8())
	e.Expect.Size = int64(d.u64())
	e.Expect.Mtime = int64(d.u64())
	if err := d.done("entry"); err != nil {
		return Entry{}, err
	}
	if e.Size < 0 {
		return Entry{}, protoErr("entry %q has a negative size", e.Path)
	}
	// No path or link target is this long (PATH_MAX is 4096): an entry
	// that claims one is no file's, and would only cost memory.
	if len(e.Path) > MaxString || len(e.Target) > MaxString {
		return Entry{}, protoErr("entry with a path or target over %d bytes", MaxString)
	}
	return e, nil
}

// Result is the outcome of applying one entry in the session: the stat the
// object has now (so the host can tell its own echo from a new change), or
// why it failed.
type Result struct {
	Path string
	// OK is false when the entry could not be applied; Err says why.
	OK  bool
	Err string
	// Conflict is set when the entry was not applied because the object
	// no longer met the entry's Expect; the stat fields then describe
	// what is there (Kind 0: nothing).
	Conflict bool
	Kind     Kind
	Mode     uint32
	Size     int64
	Mtime    int64
	Ino      uint64
}

func (r *Result) append(b []byte) []byte {
	flags := byte(0)
	if r.OK {
		flags |= 1
	}
	if r.Conflict {
		flags |= 2
	}
	b = append(b, flags, byte(r.Kind))
	b = binary.BigEndian.AppendUint32(b, r.Mode)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Size))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Mtime))
	b = binary.BigEndian.AppendUint64(b, r.Ino)
	b = appendString(b, r.Path)
	return appendString(b, r.Err)
}

// DecodeResult decodes an ack item.
func DecodeResult(p []byte) (Result, error) {
	d := decoder{p: p}
	flags := d.u8()
	r := Result{OK: flags&1 != 0, Conflict: flags&2 != 0, Kind: Kind(d.u8()), Mode: d.u32()}
	r.Size = int64(d.u64())
	r.Mtime = int64(d.u64())
	r.Ino = d.u64()
	r.Path = d.str()
	r.Err = d.str()
	return r, d.done("result")
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// decoder reads fixed fields from a payload, remembering the first
// overrun so that callers check once at the end.
type decoder struct {
	p   []byte
	bad bool
}

func (d *decoder) take(n int) []byte {
	if d.bad || n < 0 || n > len(d.p) {
		d.bad = true
		return make([]byte, max(n, 0))
	}
	b := d.p[:n]
	d.p = d.p[n:]
	return b
}

func (d *decoder) u8() uint8   { return d.take(1)[0] }
func (d *decoder) u32() uint32 { return binary.BigEndian.Uint32(d.take(4)) }
func (d *decoder) u64() uint64 { return binary.BigEndian.Uint64(d.take(8)) }

func (d *decoder) bytes(n int) []byte { return d.take(n) }

func (d *decoder) str() string {
	n := d.u32()
	if d.bad || int64(n) > int64(len(d.p)) {
		d.bad = true
		return ""
	}
	return string(d.take(int(n)))
}

func (d *decoder) done(what string) error {
	if d.bad {
		return protoErr("truncated %s frame", what)
	}
	if len(d.p) != 0 {
		return protoErr("%d trailing bytes in %s frame", len(d.p), what)
	}
	return nil
}
