package sync_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	psync "github.com/paude-dev/paude/pkg/sync"
)

// TestControlFromAnotherProcess is what `paude sync --status/--flush/--once`
// will do: read the status file and talk to the running engine's socket.
func TestControlFromAnotherProcess(t *testing.T) {
	p := newPair(t)
	ctx := ctxT(t)
	if err := psync.Control(ctx, p.cache, "test-session", "flush"); err == nil || !strings.Contains(err.Error(), "no sync is running") {
		t.Fatalf("flush without a running sync: %v", err)
	}
	if _, err := psync.ReadStatus(p.cache, "test-session"); err == nil {
		t.Fatal("status without any sync")
	}
	n := p.engine(t)
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := psync.ReadStatus(p.cache, "test-session")
	if err != nil || s.State != psync.StateWatching || s.Engine != "native" {
		t.Fatalf("status %+v %v", s, err)
	}
	write(t, p.local, "flushed.txt", "now")
	if err := psync.Control(ctx, p.cache, "test-session", "flush"); err != nil {
		t.Fatal(err)
	}
	if got, _ := read(p.pod, "flushed.txt"); got != "now" {
		t.Fatalf("flush returned before the pod had the change: %q", got)
	}
	write(t, p.pod, "once.txt", "pulled")
	if err := psync.Control(ctx, p.cache, "test-session", "once"); err != nil {
		t.Fatal(err)
	}
	if got, _ := read(p.local, "once.txt"); got != "pulled" {
		t.Fatalf("once returned before the pull: %q", got)
	}
	if err := psync.Control(ctx, p.cache, "test-session", "dance"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("got %v", err)
	}
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := psync.ReadStatus(p.cache, "test-session"); s.State != psync.StateStopped {
		t.Fatalf("after stop: %+v", s)
	}
	if fi, err := os.Stat(filepath.Join(p.cache, "test-session")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state directory %v %v", fi, err)
	}
}

func TestReadStatusOfAGoneProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// PID 0 is never a process that ran sync.
	rec := `{"pid": 0, "status": {"Engine": "native", "State": "watching"}}`
	if err := os.WriteFile(filepath.Join(dir, "status.json"), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := psync.ReadStatus(filepath.Dir(dir), "s1")
	if err != nil || s.State != psync.StateStopped || !strings.Contains(s.Err, "gone") {
		t.Fatalf("%+v %v", s, err)
	}
}
