package termfilter

import (
	"io"
)

// retainedBuffer is the most output buffer a Writer or Reader keeps
// between calls; one large call may use more for its duration.
const retainedBuffer = 64 << 10

// Writer filters what is written to it and writes the rest to an
// underlying writer, in one Write per call. Bytes of a sequence or UTF-8
// character split across calls are held until it is complete. A Writer is
// not safe for concurrent use: give each output stream its own.
type Writer struct {
	w   io.Writer
	f   *filter
	out []byte
	err error
}

// NewWriter returns a Writer that filters into w.
func NewWriter(w io.Writer, opts Options) *Writer {
	return &Writer{w: w, f: newFilter(opts)}
}

// Write filters p and writes what may pass. It reports all of p as
// written unless the underlying writer fails; after that failure every
// Write returns the same error.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.out = w.f.filter(w.out[:0], p)
	if len(w.out) > 0 {
		if _, err := w.w.Write(w.out); err != nil {
			w.err = err
			return 0, err
		}
	}
	if cap(w.out) > retainedBuffer {
		w.out = nil
	}
	return len(p), nil
}

// Reader filters what it reads from an underlying reader.
type Reader struct {
	r       io.Reader
	f       *filter
	in      []byte
	out     []byte
	pending []byte
	err     error
}

// readSize is how much a Reader asks of the underlying reader at once.
const readSize = 32 << 10

// NewReader returns a Reader that filters what it reads from r.
func NewReader(r io.Reader, opts Options) *Reader {
	return &Reader{r: r, f: newFilter(opts), in: make([]byte, readSize)}
}

// Read returns filtered bytes. It reads from the underlying reader until
// some bytes pass or it fails; an unfinished sequence at the end of the
// stream is dropped.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		n, err := r.r.Read(r.in)
		r.out = r.f.filter(r.out[:0], r.in[:n])
		r.pending = r.out
		r.err = err
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}
