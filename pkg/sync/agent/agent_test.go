package agent

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/sync/wire"
)

// session runs the helper in one mode over pipes, as an exec stream would.
type session struct {
	w    *wire.Writer
	r    *wire.Reader
	in   *io.PipeWriter
	done chan error
}

func start(t *testing.T, mode string, cfg Config) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{w: wire.NewWriter(inW), r: wire.NewReader(outR), in: inW, done: make(chan error, 1)}
	go func() {
		err := Run(context.Background(), []string{mode}, inR, outW, io.Discard)
		_ = outW.CloseWithError(io.EOF)
		s.done <- err
	}()
	b, _ := json.Marshal(cfg)
	if err := s.w.Hello(wire.Hello{Version: wire.Version, Config: b}); err != nil {
		t.Fatal(err)
	}
	if err := s.w.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.r.Expect(wire.FrameHello); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.in.Close()
		if err := <-s.done; err != nil {
			t.Errorf("helper: %v", err)
		}
	})
	return s
}

// apply sends one apply batch and returns the ack's results.
func (s *session) apply(t *testing.T, entries []wire.Entry, contents []string) []wire.Result {
	t.Helper()
	_ = s.w.Start(wire.Start{Kind: wire.BatchApply, ID: 9, Count: uint32(len(entries))})
	for i := range entries {
		_ = s.w.Entry(&entries[i])
		if entries[i].Op == wire.OpPut && entries[i].Kind == wire.KindFile {
			_, _ = s.w.Content(strings.NewReader(contents[i]), entries[i].Size)
			_ = s.w.Trailer(wire.TrailerOK)
		}
	}
	_ = s.w.End(9)
	if err := s.w.Flush(); err != nil {
		t.Fatal(err)
	}
	p, err := s.r.Expect(wire.FrameStart)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := wire.DecodeStart(p)
	var out []wire.Result
	for range st.Count {
		p, err := s.r.Expect(wire.FrameResult)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := wire.DecodeResult(p)
		out = append(out, res)
	}
	if _, err := s.r.Expect(wire.FrameEnd); err != nil {
		t.Fatal(err)
	}
	return out
}

func file(path, content string, x wire.Expect) wire.Entry {
	return wire.Entry{Op: wire.OpPut, Kind: wire.KindFile, Path: path, Mode: 0o644, Size: int64(len(content)), Mtime: 1_700_000_000_000_000_000, Expect: x}
}

func TestRecvPreconditions(t *testing.T) {
	root := t.TempDir()
	s := start(t, ModeRecv, Config{Root: root})
	res := s.apply(t, []wire.Entry{
		file("a.txt", "one", wire.Expect{}),
		{Op: wire.OpPut, Kind: wire.KindSymlink, Path: "out", Target: "/etc/hosts", Expect: wire.Expect{}},
	}, []string{"one", ""})
	if !res[0].OK || res[0].Size != 3 || res[0].Mtime != 1_700_000_000_000_000_000 || !res[1].OK {
		t.Fatalf("results %+v", res)
	}
	// The user's symlink leaving the workspace arrives as a symlink.
	if target, _ := os.Readlink(filepath.Join(root, "out")); target != "/etc/hosts" {
		t.Fatalf("symlink %q", target)
	}
	// The agent edits a.txt; a push that expects the old state must not
	// overwrite it, and says what is there.
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("agent's"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := wire.Expect{Kind: wire.KindFile, Size: 3, Mtime: 1_700_000_000_000_000_000}
	res = s.apply(t, []wire.Entry{
		file("a.txt", "two", old),
		file("new.txt", "n", wire.Expect{Kind: wire.KindFile, Size: 1, Mtime: 1}),
		{Op: wire.OpDelete, Path: "a.txt", Expect: old},
	}, []string{"two", "n", ""})
	for i, r := range res {
		if r.OK || !r.Conflict {
			t.Fatalf("result %d applied against a changed object: %+v", i, r)
		}
	}
	if res[0].Size != int64(len("agent's")) || res[0].Kind != wire.KindFile {
		t.Fatalf("conflict does not describe what is there: %+v", res[0])
	}
	if b, _ := os.ReadFile(filepath.Join(root, "a.txt")); string(b) != "agent's" {
		t.Fatalf("overwritten: %q", b)
	}
	// With the right expectation (or Any) it applies; renames too.
	now := wire.Expect{Kind: wire.KindFile, Size: res[0].Size, Mtime: res[0].Mtime}
	res = s.apply(t, []wire.Entry{
		file("a.txt", "three", now),
		{Op: wire.OpRename, Kind: wire.KindFile, Path: "b.txt", Target: "a.txt", Expect: wire.Expect{Any: true}},
	}, []string{"three", ""})
	if !res[0].OK || !res[1].OK {
		t.Fatalf("results %+v", res)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "b.txt")); string(b) != "three" {
		t.Fatalf("b.txt %q", b)
	}
}

func TestWatchRequests(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f.txt"), []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := start(t, ModeWatch, Config{Root: root, Excludes: []string{"node_modules"}, DeferWatch: true})
	request := func(kind wire.RequestKind, id uint64, paths ...string) wire.Start {
		t.Helper()
		_ = s.w.Request(wire.Request{Kind: kind, ID: id, Paths: paths})
		if err := s.w.Flush(); err != nil {
			t.Fatal(err)
		}
		p, err := s.r.Expect(wire.FrameStart)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := wire.DecodeStart(p)
		if st.ID != id && st.Kind != wire.BatchNotify {
			t.Fatalf("reply %+v to request %d", st, id)
		}
		return st
	}
	st := request(wire.RequestManifest, 1)
	p, _ := s.r.Expect(wire.FrameEntry)
	e, _ := wire.DecodeEntry(p)
	if st.Kind != wire.BatchManifest || e.Path != "f.txt" || e.Size != 7 {
		t.Fatalf("manifest %+v %+v", st, e)
	}
	if _, err := s.r.Expect(wire.FrameEnd); err != nil {
		t.Fatalf("the excluded directory was listed: %v", err)
	}
	st = request(wire.RequestGet, 2, "f.txt", "gone.txt")
	p, _ = s.r.Expect(wire.FrameEntry)
	e, _ = wire.DecodeEntry(p)
	fc := s.r.File(&e)
	b, _ := io.ReadAll(fc)
	if ok, err := fc.Finish(); !ok || err != nil || string(b) != "content" {
		t.Fatalf("content %q %v %v", b, ok, err)
	}
	p, _ = s.r.Expect(wire.FrameEntry)
	if e, _ = wire.DecodeEntry(p); e.Op != wire.OpDelete || e.Path != "gone.txt" {
		t.Fatalf("missing path sent as %+v", e)
	}
	_, _ = s.r.Expect(wire.FrameEnd)
	st = request(wire.RequestHash, 3, "f.txt")
	p, _ = s.r.Expect(wire.FrameHash)
	if h, _ := wire.DecodeHash(p); st.Kind != wire.BatchHashes || h.Missing || h.Sum[0] != 0xed {
		t.Fatalf("hash %+v", h)
	}
	_, _ = s.r.Expect(wire.FrameEnd)
	if st = request(wire.RequestWatch, 4); st.Kind != wire.BatchMarker {
		t.Fatalf("watch reply %+v", st)
	}
	_, _ = s.r.Expect(wire.FrameEnd)
	// Watching now (the marker came once the watches were placed): a
	// change is notified by itself.
	if err := os.WriteFile(filepath.Join(root, "new.txt"), []byte("n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := s.r.Expect(wire.FrameStart)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ = wire.DecodeStart(p); st.Kind != wire.BatchNotify {
		t.Fatalf("got %+v", st)
	}
	p, _ = s.r.Expect(wire.FrameEntry)
	if e, _ = wire.DecodeEntry(p); e.Path != "new.txt" || e.Kind != wire.KindFile {
		t.Fatalf("notified %+v", e)
	}
}
