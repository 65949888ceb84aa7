// Package wire encodes and decodes the frames paude's native sync engine
// and its helper in the session exchange; the protocol is described in
// package sync's documentation. It only encodes and decodes: it never
// decides whether a record is acceptable (package guard does), so the
// hostile-pod tests craft any record with the same code the engine uses,
// and the engine's checks see exactly what arrived.
package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version both ends announce in their Hello.
const Version = 1

// Magic opens every Hello so a wrong helper binary fails loudly.
const Magic = "paude-sync"

// MaxFrame is the largest frame payload a Reader accepts. Entries carry at
// most two paths of a few KiB each; anything bigger is a broken or hostile
// peer.
const MaxFrame = 64 << 10

// Frame types.
const (
	FrameHello   byte = 'V' // Hello, first frame in each direction
	FrameRequest byte = 'Q' // Request, host to helper on the watch stream
	FrameStart   byte = 'S' // batch start: kind, id, declared item count
	FrameEntry   byte = 'E' // Entry; file content follows in content batches
	FrameTrailer byte = 'T' // after file content: whether it was stable
	FrameResult  byte = 'R' // Result, one per applied entry in an ack batch
	FrameHash    byte = 'H' // Hash, in a hashes batch
	FrameEnd     byte = 'B' // batch end: id
	FrameError   byte = 'X' // a fatal error message from the helper
)

// BatchKind says what a batch carries and who sends it.
type BatchKind uint8

// Batch kinds.
const (
	// BatchApply (host → helper, push stream): entries with content to
	// apply in the session.
	BatchApply BatchKind = 1 + iota
	// BatchAck (helper → host, push stream): one Result per applied entry.
	BatchAck
	// BatchNotify (helper → host, watch stream): stat-only entries for
	// paths that changed in the session; the host asks for content.
	BatchNotify
	// BatchManifest (helper → host): stat-only entries for every synced
	// path, the reply to RequestManifest.
	BatchManifest
	// BatchContent (helper → host): entries with content, the reply to
	// RequestGet.
	BatchContent
	// BatchHashes (helper → host): Hash items, the reply to RequestHash.
	BatchHashes
	// BatchMarker (helper → host): empty, the reply to RequestMarker once
	// every change seen before it has been notified.
	BatchMarker
	// BatchRescan (helper → host): empty; the helper lost events (the
	// kernel's queue overflowed) and the host should reconcile.
	BatchRescan
)

func (k BatchKind) String() string {
	names := map[BatchKind]string{
		BatchApply: "apply", BatchAck: "ack", BatchNotify: "notify", BatchManifest: "manifest",
		BatchContent: "content", BatchHashes: "hashes", BatchMarker: "marker", BatchRescan: "rescan",
	}
	if n, ok := names[k]; ok {
		return n
	}
	return fmt.Sprintf("batch(%d)", uint8(k))
}

// RequestKind is what the host asks of the watch helper.
type RequestKind uint8

// Request kinds.
const (
	// RequestManifest asks for a BatchManifest of the whole tree.
	RequestManifest RequestKind = 1 + iota
	// RequestGet asks for a BatchContent with the named paths.
	RequestGet
	// RequestHash asks for a BatchHashes of the named regular files.
	RequestHash
	// RequestMarker asks the helper to notify what it has seen so far and
	// answer with a BatchMarker.
	RequestMarker
	// RequestWatch asks a helper started with deferred watching to place
	// its watches now and answer with a BatchMarker once they are in
	// place. (The host defers them while it pushes a large tree, so that
	// the helper does not report every file back.)
	RequestWatch
)

// Trailer statuses.
const (
	// TrailerOK: the content sent is the file as it was stat'ed.
	TrailerOK byte = 0
	// TrailerChanged: the file changed while it was read; the receiver
	// discards the content (a new change event follows).
	TrailerChanged byte = 1
)

// Hello is the first frame in each direction. Config is opaque JSON the
// host sends the helper (package agent defines it); the helper answers
// with its own Hello.
type Hello struct {
	Version uint16
	Config  []byte
}

// Request is one host request on the watch stream.
type Request struct {
	Kind  RequestKind
	ID    uint64
	Paths []string
}

// Start opens a batch. Count is the number of items the sender declares;
// a receiver refuses a batch that carries more.
type Start struct {
	Kind  BatchKind
	ID    uint64
	Count uint32
}

// Hash is the SHA-256 of one regular file in the session.
type Hash struct {
	Path string
	Sum  [32]byte
	// Missing is set when the path was not a readable regular file.
	Missing bool
}

// ErrProtocol marks a stream that broke the framing rules.
var ErrProtocol = errors.New("sync protocol violation")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// Writer encodes frames onto a buffered stream. It is not safe for
// concurrent use.
type Writer struct {
	bw  *bufio.Writer
	buf []byte
}

// NewWriter returns a Writer with a buffer large enough that many small
// files share one write to the transport.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 256<<10)}
}

func (w *Writer) frame(typ byte, payload []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := w.bw.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.bw.Write(payload)
	return err
}

// Hello writes a Hello frame.
func (w *Writer) Hello(h Hello) error {
	w.buf = append(w.buf[:0], Magic...)
	w.buf = binary.BigEndian.AppendUint16(w.buf, h.Version)
	w.buf = append(w.buf, h.Config...)
	return w.frame(FrameHello, w.buf)
}

// Request writes a Request frame.
func (w *Writer) Request(r Request) error {
	w.buf = append(w.buf[:0], byte(r.Kind))
	b := binary.BigEndian.AppendUint64(w.buf, r.ID)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Paths)))
	for _, p := range r.Paths {
		b = appendString(b, p)
	}
	w.buf = b
	if len(b) > MaxFrame {
		return fmt.Errorf("request with %d paths does not fit one frame: send fewer paths per request", len(r.Paths))
	}
	return w.frame(FrameRequest, b)
}

// Start writes a batch start frame.
func (w *Writer) Start(s Start) error {
	w.buf = append(w.buf[:0], byte(s.Kind))
	b := binary.BigEndian.AppendUint64(w.buf, s.ID)
	b = binary.BigEndian.AppendUint32(b, s.Count)
	w.buf = b
	return w.frame(FrameStart, b)
}

// End writes a batch end frame.
func (w *Writer) End(id uint64) error {
	w.buf = binary.BigEndian.AppendUint64(w.buf[:0], id)
	return w.frame(FrameEnd, w.buf)
}

// Entry writes an entry header. For a file in an apply or content batch
// the caller then writes exactly e.Size bytes with Content and a Trailer.
func (w *Writer) Entry(e *Entry) error {
	w.buf = e.append(w.buf[:0])
	return w.frame(FrameEntry, w.buf)
}

// Content copies exactly n bytes of file content from r. When r ends early
// it pads with zeros and reports short=true so the caller sends
// TrailerChanged; the frame stream stays aligned either way.
func (w *Writer) Content(r io.Reader, n int64) (short bool, err error) {
	copied, err := io.CopyN(w.bw, r, n)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, io.EOF) {
		// A read error: keep the stream aligned, then say so.
		if _, werr := io.CopyN(w.bw, zeroReader{}, n-copied); werr != nil {
			return true, werr
		}
		return true, nil
	}
	if _, err := io.CopyN(w.bw, zeroReader{}, n-copied); err != nil {
		return true, err
	}
	return true, nil
}

// Trailer closes a file's content.
func (w *Writer) Trailer(status byte) error {
	return w.frame(FrameTrailer, []byte{status})
}

// Result writes one ack item.
func (w *Writer) Result(r *Result) error {
	w.buf = r.append(w.buf[:0])
	return w.frame(FrameResult, w.buf)
}

// Hash writes one hashes item.
func (w *Writer) Hash(h Hash) error {
	b := appendString(w.buf[:0], h.Path)
	if h.Missing {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = append(b, h.Sum[:]...)
	w.buf = b
	return w.frame(FrameHash, b)
}

// Error writes a fatal error message.
func (w *Writer) Error(msg string) error {
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	return w.frame(FrameError, []byte(msg))
}

// Flush sends everything buffered.
func (w *Writer) Flush() error { return w.bw.Flush() }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// CountUnknown is declared by a batch whose length the sender does not
// know up front (a manifest, streamed while walking); the receiver bounds
// it while reading.
const CountUnknown = ^uint32(0)
