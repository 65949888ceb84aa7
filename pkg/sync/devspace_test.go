package sync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	psync "github.com/paude-dev/paude/pkg/sync"
)

func TestDevSpaceArgs(t *testing.T) {
	cases := []struct {
		name string
		opts psync.Options
		once bool
		want []string
	}{
		{
			name: "task list flags with connection settings",
			opts: psync.Options{LocalRoot: "/home/u/proj", RemoteRoot: "/workspace", Excludes: []string{"node_modules", ".venv", "__pycache__"},
				DevSpace: psync.DevSpaceTarget{Pod: "paude-session-abc123", Container: "agent", Namespace: "paude", KubeContext: "ctx", Kubeconfig: "/k/config"}},
			want: []string{"sync", "--path=/home/u/proj:/workspace", "--pod=paude-session-abc123", "--container=agent",
				"--namespace=paude", "--kube-context=ctx", "--kubeconfig=/k/config",
				"--exclude=.git", "--exclude=node_modules", "--exclude=.venv", "--exclude=__pycache__",
				"--initial-sync=preferLocal", "--pick=false", "--no-warn", "--no-colors"},
		},
		{
			name: "defaults, a comma in a pattern, once",
			opts: psync.Options{LocalRoot: "/p", RemoteRoot: "/w", Excludes: []string{"a,b", `q"`}, DevSpace: psync.DevSpaceTarget{Pod: "p"}},
			once: true,
			want: []string{"sync", "--path=/p:/w", "--pod=p", "--exclude=.git", `--exclude="a,b"`, `--exclude="q"""`,
				"--initial-sync=preferLocal", "--pick=false", "--no-warn", "--no-colors", "--no-watch"},
		},
		{
			name: "no excludes configured means the defaults",
			opts: psync.Options{LocalRoot: "/p", RemoteRoot: "/w", DevSpace: psync.DevSpaceTarget{Pod: "p"}},
			want: []string{"sync", "--path=/p:/w", "--pod=p", "--exclude=.git", "--exclude=node_modules", "--exclude=.venv", "--exclude=__pycache__",
				"--initial-sync=preferLocal", "--pick=false", "--no-warn", "--no-colors"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := psync.NewDevSpace(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Args(c.once); !slices.Equal(got, c.want) {
				t.Fatalf("args\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// fakeDevSpace points a DevSpace syncer at testdata/devspace/fake-devspace
// playing back transcript.
func fakeDevSpace(t *testing.T, transcript string, progress func(psync.Progress)) (*psync.DevSpace, string) {
	t.Helper()
	dir := t.TempDir()
	bin, _ := filepath.Abs("testdata/devspace/fake-devspace")
	tr, _ := filepath.Abs(filepath.Join("testdata/devspace", transcript))
	t.Setenv("FAKE_DEVSPACE_DIR", dir)
	t.Setenv("FAKE_DEVSPACE_TRANSCRIPT", tr)
	d, err := psync.NewDevSpace(psync.Options{
		LocalRoot: t.TempDir(), RemoteRoot: "/workspace", Progress: progress,
		DevSpace: psync.DevSpaceTarget{Binary: bin, Pod: "pod-1", Namespace: "paude"},
	})
	if err != nil {
		t.Fatal(err)
	}
	psync.SetStopGrace(d, 200*time.Millisecond)
	return d, dir
}

func childAlive(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return syscall.Kill(pid, 0) == nil
}

func TestDevSpaceStartStatusStop(t *testing.T) {
	var progress []psync.Progress
	d, dir := fakeDevSpace(t, "watching.txt", func(p psync.Progress) { progress = append(progress, p) })
	ctx := ctxT(t)
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	argv, _ := os.ReadFile(filepath.Join(dir, "argv"))
	if got := strings.Split(strings.TrimSpace(string(argv)), "\n"); !slices.Equal(got, d.Args(false)) {
		t.Fatalf("devspace ran with %q", got)
	}
	s := d.Status()
	if s.Engine != "devspace" || s.State != psync.StateWatching || s.LastSync.IsZero() || s.Pending != -1 {
		t.Fatalf("status %+v", s)
	}
	if len(progress) != 1 || progress[0] != (psync.Progress{Phase: "push", Files: 3, TotalFiles: 3, Bytes: 12800, TotalBytes: 12800}) {
		t.Fatalf("progress %+v", progress)
	}
	if err := d.Flush(ctx); err == nil {
		t.Fatal("flush claimed to work")
	}
	if !childAlive(t, dir) {
		t.Fatal("the fake's child is not running")
	}
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "devspace's child to end", func() bool { return !childAlive(t, dir) })
	if s := d.Status(); s.State != psync.StateStopped {
		t.Fatalf("state %s", s.State)
	}
}

func TestDevSpaceStopKillsWhatIgnoresTERM(t *testing.T) {
	d, dir := fakeDevSpace(t, "watching.txt", nil)
	t.Setenv("FAKE_DEVSPACE_IGNORE_TERM", "1")
	ctx := ctxT(t)
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "devspace's child to end", func() bool { return !childAlive(t, dir) })
}

func TestDevSpaceStartFails(t *testing.T) {
	d, _ := fakeDevSpace(t, "fails.txt", nil)
	err := d.Start(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), `pods "pod-1" not found`) || strings.Contains(err.Error(), "\x1b") {
		t.Fatalf("got %v", err)
	}
	if s := d.Status(); s.State != psync.StateFailed {
		t.Fatalf("state %s", s.State)
	}
}

func TestDevSpaceOnce(t *testing.T) {
	d, dir := fakeDevSpace(t, "once.txt", nil)
	if err := d.Once(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	argv, _ := os.ReadFile(filepath.Join(dir, "argv"))
	if !strings.Contains(string(argv), "--no-watch\n") {
		t.Fatalf("argv %q", argv)
	}
	if s := d.Status(); s.State != psync.StateStopped {
		t.Fatalf("state %s", s.State)
	}
}

func TestDevSpaceUnavailable(t *testing.T) {
	d, err := psync.NewDevSpace(psync.Options{LocalRoot: "/p", RemoteRoot: "/w",
		DevSpace: psync.DevSpaceTarget{Binary: "devspace-not-installed-here", Pod: "p"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{d.Available(), d.Start(context.Background())} {
		var u *psync.UnavailableError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "set sync.method to native") {
			t.Fatalf("got %v", err)
		}
	}
}
