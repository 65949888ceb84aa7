package sync_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/remote/remotetest"
	psync "github.com/paude-dev/paude/pkg/sync"
)

// helperPath is the test binary itself, run as the helper in the "pod".
func helperPath(t testing.TB) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pair is a local workspace and a "pod" workspace (a temp dir reached
// through remotetest.Local), with a cache dir for sync state.
type pair struct {
	local, pod, cache string
	exec              *remotetest.Local
}

func newPair(t testing.TB) *pair {
	t.Helper()
	base := t.TempDir()
	p := &pair{
		local: filepath.Join(base, "local"),
		pod:   filepath.Join(base, "pod"),
		cache: filepath.Join(base, "cache"),
	}
	for _, d := range []string{p.local, p.pod} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.exec = &remotetest.Local{Dir: p.pod}
	return p
}

func (p *pair) options(t testing.TB) psync.Options {
	fold := false
	return psync.Options{
		Exec:            p.exec,
		LocalRoot:       p.local,
		RemoteRoot:      p.pod,
		HelperPath:      helperPath(t),
		SessionID:       "test-session",
		PodName:         "paude-test-pod",
		CacheDir:        p.cache,
		CaseInsensitive: &fold,
	}
}

func (p *pair) engine(t testing.TB) *psync.Native {
	t.Helper()
	n, err := psync.NewNative(p.options(t))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func write(t testing.TB, root, rel, content string) {
	t.Helper()
	abs := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(abs, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(root, rel string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "", false
	}
	return string(b), true
}

func exists(root, rel string) bool {
	_, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

// eventually waits for cond, failing after a generous timeout: this is a
// correctness wait, not a speed check.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func hasContent(root, rel, want string) func() bool {
	return func() bool {
		got, ok := read(root, rel)
		return ok && got == want
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var _ = bytes.Equal
