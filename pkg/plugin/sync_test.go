package plugin

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/remote/remotetest"
	"github.com/paude-dev/paude/pkg/sync"
)

const syncID = "1700000000-0000cafe"

// fakeCopier is a cluster-like backend whose session's copy is a local
// directory reached through remotetest.Local, with this test binary as
// paude in it.
type fakeCopier struct {
	*fakeBackend
	copy *backend.WorkspaceCopy
	err  error
}

func (f fakeCopier) WorkspaceCopy(_ context.Context, id string) (*backend.WorkspaceCopy, error) {
	f.calls = append(f.calls, "copy "+id)
	return f.copy, f.err
}

func newFakeCopier(t *testing.T) (fakeCopier, string, string) {
	t.Helper()
	base := t.TempDir()
	host, pod := filepath.Join(base, "host"), filepath.Join(base, "pod")
	for _, d := range []string{host, filepath.Join(pod, "ws")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	helper, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	w := &backend.WorkspaceCopy{
		SessionID: syncID, Workspace: host, Remote: filepath.Join(pod, "ws"), Pod: "paude-" + syncID,
		Exec: &remotetest.Local{Dir: pod}, Helper: helper, Method: sync.MethodNative, CacheDir: filepath.Join(base, "cache"),
	}
	return fakeCopier{fakeBackend: &fakeBackend{typ: backend.OpenShift}, copy: w}, host, w.Remote
}

func TestSyncCommandCases(t *testing.T) {
	t.Run("Podman mounts the workspace", func(t *testing.T) {
		res := runCmd(t, Standalone, &fakeBackend{typ: backend.Podman}, emptyWorkspace(t), "sync", "--once")
		if res.code != 0 || !strings.Contains(res.errOut, "podman sessions work on your workspace itself") {
			t.Fatalf("exit %d: %s", res.code, res.errOut)
		}
	})
	t.Run("a mounted workspace's commits are fetched", func(t *testing.T) {
		f := fakeFetcher{&fakeBackend{typ: backend.Podman}}
		res := runCmd(t, Standalone, f, emptyWorkspace(t), "sync", syncID)
		if res.code != 0 || calls(f.fakeBackend) != "fetch "+syncID || !strings.Contains(res.errOut, "there are no files to sync") {
			t.Fatalf("exit %d calls %q: %s", res.code, calls(f.fakeBackend), res.errOut)
		}
	})
	t.Run("one mode at a time", func(t *testing.T) {
		f, _, _ := newFakeCopier(t)
		res := runCmd(t, KubectlPlugin, f, emptyWorkspace(t), "sync", "--once", "--status")
		if res.code != 2 || !strings.Contains(res.errOut, "give one of --status, --flush and --once\nSee 'kubectl paude sync -h'") {
			t.Fatalf("exit %d: %s", res.code, res.errOut)
		}
	})
	t.Run("a bad ID reaches no backend", func(t *testing.T) {
		f, _, _ := newFakeCopier(t)
		res := runCmd(t, KubectlPlugin, f, emptyWorkspace(t), "sync", "../x")
		if res.code != 2 || len(f.calls) != 0 {
			t.Fatalf("exit %d calls %v: %s", res.code, f.calls, res.errOut)
		}
	})
	t.Run("a session that is not running", func(t *testing.T) {
		f, _, _ := newFakeCopier(t)
		f.err = &backend.NotRunningError{ID: syncID, Why: "its pod is gone", Hint: "`kubectl paude attach " + syncID + "` resumes it"}
		res := runCmd(t, KubectlPlugin, f, emptyWorkspace(t), "sync", syncID, "--status")
		if res.code != 1 || !strings.Contains(res.errOut, "session "+syncID+" is not running (its pod is gone): `kubectl paude attach") {
			t.Fatalf("exit %d: %s", res.code, res.errOut)
		}
	})
	t.Run("flush without a running sync", func(t *testing.T) {
		f, _, _ := newFakeCopier(t)
		res := runCmd(t, KubectlPlugin, f, emptyWorkspace(t), "sync", syncID, "--flush")
		if res.code != 1 || !strings.Contains(res.errOut, "no sync is running for session "+syncID+" on this machine, so there is nothing to flush: 'kubectl paude attach "+syncID+"'") {
			t.Fatalf("exit %d: %s", res.code, res.errOut)
		}
	})
}

// TestSyncOnceAndStatus: --once copies the workspace, --status reports
// what happened, before and after.
func TestSyncOnceAndStatus(t *testing.T) {
	f, host, pod := newFakeCopier(t)
	ws := emptyWorkspace(t)
	res := runCmd(t, KubectlPlugin, f, ws, "sync", syncID, "--status")
	if res.code != 0 || !strings.Contains(res.out, "State:      never synced from this machine") || !strings.Contains(res.out, "Commits:    none fetched from this machine yet") {
		t.Fatalf("exit %d\n%s%s", res.code, res.out, res.errOut)
	}
	if err := os.WriteFile(filepath.Join(host, "a.txt"), []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = runCmd(t, KubectlPlugin, f, ws, "sync", syncID, "--once")
	if res.code != 0 {
		t.Fatalf("--once: exit %d\n%s", res.code, res.errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(pod, "a.txt")); string(b) != "from the host" {
		t.Fatalf("not synced: %q", b)
	}
	res = runCmd(t, KubectlPlugin, f, ws, "sync", syncID, "--status")
	for _, want := range []string{"Engine:     native\n", "State:      stopped (no sync is running now)\n", "Last sync:  ", "Conflicts:  0\n"} {
		if !strings.Contains(res.out, want) {
			t.Errorf("status lacks %q:\n%s", want, res.out)
		}
	}
}

// TestSyncForegroundFlushAndStatus runs `sync` until interrupted, and
// while it runs, --flush and --status talk to it from other commands.
func TestSyncForegroundFlushAndStatus(t *testing.T) {
	f, host, pod := newFakeCopier(t)
	ws := emptyWorkspace(t)
	t.Chdir(ws)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	root := NewRootOptions(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &syncedWriter{w: &errOut}}, KubectlPlugin)
	root.NewBackend = func(*RootOptions, backend.Type) (backend.Backend, error) { return f, nil }
	cmd := NewRootCmdWithOptions(root)
	cmd.SetArgs([]string{"sync", syncID})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	waitUntil(t, "sync to run", func() bool {
		st, err := sync.ReadStatus(f.copy.CacheDir, syncID)
		return err == nil && st.State == sync.StateWatching
	})

	if err := os.WriteFile(filepath.Join(host, "live.txt"), []byte("live"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runCmd(t, KubectlPlugin, f, ws, "sync", syncID, "--flush")
	if res.code != 0 || !strings.Contains(res.errOut, "has your local changes") {
		t.Fatalf("--flush: exit %d: %s", res.code, res.errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(pod, "live.txt")); string(b) != "live" {
		t.Fatalf("--flush returned before the session had the change: %q", b)
	}
	res = runCmd(t, KubectlPlugin, f, ws, "sync", syncID, "--status")
	if res.code != 0 || !strings.Contains(res.out, "State:      watching\n") || !strings.Contains(res.out, "Pending:    0 local changes") {
		t.Fatalf("--status: exit %d:\n%s%s", res.code, res.out, res.errOut)
	}
	res = runCmd(t, KubectlPlugin, f, ws, "sync", syncID)
	if res.code != 1 || !strings.Contains(res.errOut, "already kept in step by another kubectl paude process") {
		t.Fatalf("a second sync: exit %d: %s", res.code, res.errOut)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sync ended with %v\n%s", err, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sync did not end when interrupted")
	}
	if st, _ := sync.ReadStatus(f.copy.CacheDir, syncID); st.State != sync.StateStopped {
		t.Errorf("state after the end %s", st.State)
	}
}

// syncedWriter serialises writes from the command's goroutines.
type syncedWriter struct {
	mu stdsync.Mutex
	w  *bytes.Buffer
}

func (s *syncedWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// waitUntil polls cond; the bound is for a hung test, not a performance
// expectation.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeFetcher is a Podman-like backend that fetches commits.
type fakeFetcher struct{ *fakeBackend }

func (f fakeFetcher) FetchCommits(_ context.Context, id string, _ io.Writer) error {
	f.calls = append(f.calls, "fetch "+id)
	return nil
}
