package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Reader decodes frames from a stream. It is not safe for concurrent use.
type Reader struct {
	br      *bufio.Reader
	payload []byte
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 256<<10), payload: make([]byte, 0, 4096)}
}

// Next reads the next frame header and payload. The payload is valid until
// the next call. io.EOF means the stream ended cleanly between frames.
func (r *Reader) Next() (typ byte, payload []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r.br, hdr[:1]); err != nil {
		return 0, nil, err
	}
	if _, err := io.ReadFull(r.br, hdr[1:]); err != nil {
		return 0, nil, protoErr("stream ended inside a frame header")
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, nil, protoErr("frame of %d bytes exceeds the %d-byte limit", n, MaxFrame)
	}
	if cap(r.payload) < int(n) {
		r.payload = make([]byte, n)
	}
	r.payload = r.payload[:n]
	if _, err := io.ReadFull(r.br, r.payload); err != nil {
		return 0, nil, protoErr("stream ended inside a frame")
	}
	return hdr[0], r.payload, nil
}

// Expect reads the next frame and fails unless it has type typ.
func (r *Reader) Expect(typ byte) ([]byte, error) {
	t, p, err := r.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, protoErr("stream ended, expected frame %q", typ)
		}
		return nil, err
	}
	if t == FrameError && typ != FrameError {
		return nil, &RemoteError{Msg: string(p)}
	}
	if t != typ {
		return nil, protoErr("got frame %q, expected %q", t, typ)
	}
	return p, nil
}

// Content returns a reader for exactly n bytes of raw file content. The
// caller must consume it fully (or call Discard) before the next frame.
func (r *Reader) Content(n int64) io.Reader { return io.LimitReader(r.br, n) }

// Discard skips n bytes of content the receiver refused.
func (r *Reader) Discard(n int64) error {
	m, err := io.CopyN(io.Discard, r.br, n)
	if err != nil || m != n {
		return protoErr("stream ended inside file content")
	}
	return nil
}

// Trailer reads the trailer after file content.
func (r *Reader) Trailer() (byte, error) {
	p, err := r.Expect(FrameTrailer)
	if err != nil {
		return 0, err
	}
	if len(p) != 1 || p[0] > TrailerChanged {
		return 0, protoErr("bad trailer")
	}
	return p[0], nil
}

// RemoteError is a fatal error the helper reported in an error frame. Its
// text came from the session: print it quoted.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string {
	return fmt.Sprintf("sync helper in the session failed: %q", e.Msg)
}

// DecodeHello decodes a Hello frame's payload.
func DecodeHello(p []byte) (Hello, error) {
	if len(p) < len(Magic)+2 || string(p[:len(Magic)]) != Magic {
		return Hello{}, protoErr("not a paude sync helper (bad hello)")
	}
	p = p[len(Magic):]
	return Hello{Version: binary.BigEndian.Uint16(p), Config: append([]byte(nil), p[2:]...)}, nil
}

// DecodeRequest decodes a Request frame's payload.
func DecodeRequest(p []byte) (Request, error) {
	d := decoder{p: p}
	req := Request{Kind: RequestKind(d.u8()), ID: d.u64()}
	n := d.u32()
	if int(n) > len(p) {
		return Request{}, protoErr("request declares %d paths in %d bytes", n, len(p))
	}
	req.Paths = make([]string, 0, n)
	for range n {
		req.Paths = append(req.Paths, d.str())
	}
	return req, d.done("request")
}

// DecodeStart decodes a batch start frame's payload.
func DecodeStart(p []byte) (Start, error) {
	d := decoder{p: p}
	s := Start{Kind: BatchKind(d.u8()), ID: d.u64(), Count: d.u32()}
	return s, d.done("batch start")
}

// DecodeEnd decodes a batch end frame's payload.
func DecodeEnd(p []byte) (uint64, error) {
	d := decoder{p: p}
	id := d.u64()
	return id, d.done("batch end")
}

// DecodeHash decodes a hashes item.
func DecodeHash(p []byte) (Hash, error) {
	d := decoder{p: p}
	h := Hash{Path: d.str(), Missing: d.u8() != 0}
	copy(h.Sum[:], d.bytes(32))
	return h, d.done("hash")
}

// FileContent is the content of one file entry on a Reader: exactly Size
// raw bytes, then a trailer. Whoever handles the entry reads what it
// wants; Finish then skips the rest and reads the trailer, so the stream
// stays aligned whether the entry was applied, refused or failed.
type FileContent struct {
	r        *Reader
	lr       *io.LimitedReader
	finished bool
	status   byte
	err      error
}

// File returns the content that follows entry e (which must be a file).
func (r *Reader) File(e *Entry) *FileContent {
	return &FileContent{r: r, lr: &io.LimitedReader{R: r.br, N: e.Size}}
}

// Read implements io.Reader over the content bytes only.
func (c *FileContent) Read(p []byte) (int, error) { return c.lr.Read(p) }

// Finish discards unread content, reads the trailer and reports whether
// the sender vouched for the content (TrailerOK). It is idempotent.
func (c *FileContent) Finish() (ok bool, err error) {
	if !c.finished {
		c.finished = true
		if c.lr.N > 0 {
			if _, err := io.Copy(io.Discard, c.lr); err != nil {
				c.err = err
			} else if c.lr.N > 0 {
				c.err = protoErr("stream ended inside file content")
			}
		}
		if c.err == nil {
			c.status, c.err = c.r.Trailer()
		}
	}
	return c.err == nil && c.status == TrailerOK, c.err
}
