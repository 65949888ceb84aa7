package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	entry := Entry{Op: OpPut, Kind: KindFile, Path: "a/b\x01c", Mode: 0o4755, Size: 5, Mtime: 1234567890123, Ino: 42,
		Expect: Expect{Kind: KindFile, Size: 3, Mtime: 9}}
	res := Result{Path: "x", OK: false, Conflict: true, Err: "boom", Kind: KindDir, Mode: 0o755, Size: 1, Mtime: 2, Ino: 3}
	hash := Hash{Path: "h", Sum: [32]byte{1, 2, 3}}
	steps := []func() error{
		func() error { return w.Hello(Hello{Version: Version, Config: []byte(`{"root":"/w"}`)}) },
		func() error { return w.Request(Request{Kind: RequestGet, ID: 7, Paths: []string{"p1", "p2"}}) },
		func() error { return w.Start(Start{Kind: BatchContent, ID: 7, Count: 1}) },
		func() error { return w.Entry(&entry) },
		func() error { _, err := w.Content(strings.NewReader("hello"), 5); return err },
		func() error { return w.Trailer(TrailerOK) },
		func() error { return w.Result(&res) },
		func() error { return w.Hash(hash) },
		func() error { return w.End(7) },
		func() error { return w.Error("bad") },
		w.Flush,
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(&buf)
	p, err := r.Expect(FrameHello)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := DecodeHello(p); err != nil || h.Version != Version || string(h.Config) != `{"root":"/w"}` {
		t.Fatalf("hello %+v %v", h, err)
	}
	p, _ = r.Expect(FrameRequest)
	if q, err := DecodeRequest(p); err != nil || q.ID != 7 || q.Kind != RequestGet || len(q.Paths) != 2 || q.Paths[1] != "p2" {
		t.Fatalf("request %+v %v", q, err)
	}
	p, _ = r.Expect(FrameStart)
	if s, err := DecodeStart(p); err != nil || s != (Start{Kind: BatchContent, ID: 7, Count: 1}) {
		t.Fatalf("start %+v %v", s, err)
	}
	p, _ = r.Expect(FrameEntry)
	e, err := DecodeEntry(p)
	if err != nil || e != entry {
		t.Fatalf("entry %+v %v", e, err)
	}
	fc := r.File(&e)
	got, _ := io.ReadAll(fc)
	if ok, err := fc.Finish(); string(got) != "hello" || !ok || err != nil {
		t.Fatalf("content %q %v %v", got, ok, err)
	}
	p, _ = r.Expect(FrameResult)
	if got, err := DecodeResult(p); err != nil || got != res {
		t.Fatalf("result %+v %v", got, err)
	}
	p, _ = r.Expect(FrameHash)
	if got, err := DecodeHash(p); err != nil || got != hash {
		t.Fatalf("hash %+v %v", got, err)
	}
	p, _ = r.Expect(FrameEnd)
	if id, err := DecodeEnd(p); err != nil || id != 7 {
		t.Fatalf("end %d %v", id, err)
	}
	var re *RemoteError
	if _, err := r.Expect(FrameStart); !errors.As(err, &re) || re.Msg != "bad" {
		t.Fatalf("error frame: %v", err)
	}
	if _, _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("clean end: %v", err)
	}
}

func TestReaderRefusesBrokenStreams(t *testing.T) {
	frame := func(typ byte, payload []byte) []byte {
		n := len(payload)
		return append([]byte{typ, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, payload...)
	}
	cases := []struct {
		name string
		in   []byte
		read func(r *Reader) error
	}{
		{"oversized frame", []byte{FrameEntry, 0x7f, 0, 0, 0}, func(r *Reader) error { _, _, err := r.Next(); return err }},
		{"truncated header", []byte{FrameEntry, 0}, func(r *Reader) error { _, _, err := r.Next(); return err }},
		{"truncated payload", []byte{FrameEntry, 0, 0, 0, 9, 1}, func(r *Reader) error { _, _, err := r.Next(); return err }},
		{"truncated entry", frame(FrameEntry, []byte{1, 1, 0}), func(r *Reader) error {
			_, p, err := r.Next()
			if err != nil {
				return err
			}
			_, err = DecodeEntry(p)
			return err
		}},
		{"trailing bytes in end", frame(FrameEnd, make([]byte, 9)), func(r *Reader) error {
			_, p, _ := r.Next()
			_, err := DecodeEnd(p)
			return err
		}},
		{"string longer than frame", frame(FrameRequest, append([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, 0xff, 0xff, 0xff, 0xff)), func(r *Reader) error {
			_, p, _ := r.Next()
			_, err := DecodeRequest(p)
			return err
		}},
		{"bad hello", frame(FrameHello, []byte("nope!!!!!!!!!!")), func(r *Reader) error {
			_, p, _ := r.Next()
			_, err := DecodeHello(p)
			return err
		}},
		{"content cut short", append(frame(FrameEntry, nil), 'a'), func(r *Reader) error {
			_, _, _ = r.Next()
			fc := r.File(&Entry{Size: 10})
			_, err := fc.Finish()
			return err
		}},
		{"bad trailer", append([]byte("ab"), frame(FrameTrailer, []byte{9})...), func(r *Reader) error {
			fc := r.File(&Entry{Size: 2})
			_, err := fc.Finish()
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.read(NewReader(bytes.NewReader(c.in)))
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("got %v, want a protocol error", err)
			}
		})
	}
}

func TestContentShortReaderKeepsStreamAligned(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	short, err := w.Content(strings.NewReader("abc"), 6)
	if err != nil || !short {
		t.Fatalf("short=%v err=%v", short, err)
	}
	_ = w.Trailer(TrailerChanged)
	_ = w.End(1)
	_ = w.Flush()
	r := NewReader(&buf)
	fc := r.File(&Entry{Size: 6})
	if ok, err := fc.Finish(); ok || err != nil {
		t.Fatalf("ok=%v err=%v: a changed file must not be vouched for", ok, err)
	}
	if _, err := r.Expect(FrameEnd); err != nil {
		t.Fatalf("stream misaligned: %v", err)
	}
}

func TestExpectMatches(t *testing.T) {
	file := Entry{Kind: KindFile, Size: 3, Mtime: 5}
	cases := []struct {
		name string
		x    Expect
		have Entry
		ok   bool
		want bool
	}{
		{"any", Expect{Any: true}, Entry{}, false, true},
		{"absent wanted, absent", Expect{}, Entry{}, false, true},
		{"absent wanted, present", Expect{}, file, true, false},
		{"file same", Expect{Kind: KindFile, Size: 3, Mtime: 5}, file, true, true},
		{"file changed", Expect{Kind: KindFile, Size: 3, Mtime: 6}, file, true, false},
		{"file gone", Expect{Kind: KindFile, Size: 3, Mtime: 5}, Entry{}, false, false},
		{"kind changed", Expect{Kind: KindDir}, file, true, false},
		{"dir", Expect{Kind: KindDir}, Entry{Kind: KindDir}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.x.Matches(c.have, c.ok); got != c.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}

// An entry may not carry a path or target longer than any file has: a
// session that sends one would otherwise make the host hold it (500,000
// entries of 64 KiB are 30 GiB). The control at the limit decodes.
func TestDecodeEntryBoundsStrings(t *testing.T) {
	long := strings.Repeat("a", MaxString+1)
	for _, e := range []Entry{
		{Op: OpPut, Kind: KindSymlink, Path: "l", Target: long},
		{Op: OpPut, Kind: KindFile, Path: long},
	} {
		if _, err := DecodeEntry(e.append(nil)); !errors.Is(err, ErrProtocol) {
			t.Errorf("a %d-byte string decoded: %v", len(long), err)
		}
	}
	ok := Entry{Op: OpPut, Kind: KindSymlink, Path: "l", Target: long[:MaxString]}
	if got, err := DecodeEntry(ok.append(nil)); err != nil || got.Target != ok.Target {
		t.Errorf("control: %v", err)
	}
}
