package sync_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	psync "github.com/paude-dev/paude/pkg/sync"
)

// TestNativeEndToEnd drives the real engine against the real helper (this
// test binary run as `__sync-agent` through remotetest.Local), the way the
// backend will: start, edit on both sides, delete and rename on both
// sides, a conflict, stop, resume with a three-way reconcile, and --once.
func TestNativeEndToEnd(t *testing.T) {
	p := newPair(t)
	write(t, p.local, "README.md", "hello\n")
	write(t, p.local, "src/main.go", "package main\n")
	write(t, p.local, "node_modules/dep/index.js", "excluded\n")
	write(t, p.local, ".git/config", "[core]\n")
	if err := os.Symlink("../README.md", filepath.Join(p.local, "src/readme-link")); err != nil {
		t.Fatal(err)
	}
	var progress []psync.Progress
	opts := p.options(t)
	opts.Progress = func(pr psync.Progress) { progress = append(progress, pr) }
	n, err := psync.NewNative(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("initial push", func(t *testing.T) {
		if got, _ := read(p.pod, "src/main.go"); got != "package main\n" {
			t.Fatalf("pod src/main.go = %q", got)
		}
		if exists(p.pod, "node_modules") || exists(p.pod, ".git") {
			t.Fatal("excluded paths reached the pod")
		}
		if target, err := os.Readlink(filepath.Join(p.pod, "src/readme-link")); err != nil || target != "../README.md" {
			t.Fatalf("symlink in pod: %q %v", target, err)
		}
		last := progress[len(progress)-1]
		if last.Phase != "push" || last.Files != last.TotalFiles || last.TotalFiles == 0 {
			t.Fatalf("progress %+v", progress)
		}
	})
	t.Run("local edit reaches the pod", func(t *testing.T) {
		write(t, p.local, "src/main.go", "package main // edited\n")
		eventually(t, "local edit in pod", hasContent(p.pod, "src/main.go", "package main // edited\n"))
	})
	t.Run("pod edit reaches local", func(t *testing.T) {
		write(t, p.pod, "src/agent.go", "package main // by the agent\n")
		eventually(t, "pod file locally", hasContent(p.local, "src/agent.go", "package main // by the agent\n"))
	})
	t.Run("deletes both ways", func(t *testing.T) {
		if err := os.Remove(filepath.Join(p.local, "README.md")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "delete in pod", func() bool { return !exists(p.pod, "README.md") })
		if err := os.Remove(filepath.Join(p.pod, "src/agent.go")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "delete locally", func() bool { return !exists(p.local, "src/agent.go") })
	})
	t.Run("renames both ways", func(t *testing.T) {
		podIno := inode(t, p.pod, "src/main.go")
		if err := os.Rename(filepath.Join(p.local, "src"), filepath.Join(p.local, "cmd")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "local rename in pod", func() bool {
			return !exists(p.pod, "src") && exists(p.pod, "cmd/main.go")
		})
		if inode(t, p.pod, "cmd/main.go") != podIno {
			t.Fatal("the directory was copied again instead of renamed in the pod")
		}
		write(t, p.pod, "docs/a.md", "a\n")
		eventually(t, "new pod dir locally", hasContent(p.local, "docs/a.md", "a\n"))
		localIno := inode(t, p.local, "docs/a.md")
		if err := os.Rename(filepath.Join(p.pod, "docs/a.md"), filepath.Join(p.pod, "docs/b.md")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "pod rename locally", func() bool {
			return !exists(p.local, "docs/a.md") && exists(p.local, "docs/b.md")
		})
		if inode(t, p.local, "docs/b.md") != localIno {
			t.Fatal("the file was fetched again instead of renamed locally")
		}
	})
	if err := n.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if s := n.Status(); s.State != psync.StateStopped || len(s.Refused) != 0 || len(s.Conflicts) != 0 || len(s.Warnings) != 0 {
		t.Fatalf("status after stop: %+v", s)
	}

	t.Run("resume reconciles three ways with a conflict", func(t *testing.T) {
		// While no sync runs: the agent edits one file, the user another,
		// and both edit cmd/main.go.
		write(t, p.pod, "docs/b.md", "b from agent\n")
		write(t, p.local, "notes.txt", "user notes\n")
		write(t, p.local, "cmd/main.go", "local version\n")
		write(t, p.pod, "cmd/main.go", "pod version!\n")
		if err := os.Remove(filepath.Join(p.pod, "cmd/readme-link")); err != nil {
			t.Fatal(err)
		}
		n2 := p.engine(t)
		if err := n2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = n2.Stop(ctx) }()
		if got, _ := read(p.local, "docs/b.md"); got != "b from agent\n" {
			t.Fatalf("pod-only change not pulled: %q", got)
		}
		if got, _ := read(p.pod, "notes.txt"); got != "user notes\n" {
			t.Fatalf("local-only change not pushed: %q", got)
		}
		if exists(p.local, "cmd/readme-link") {
			t.Fatal("pod delete not applied locally")
		}
		if got, _ := read(p.local, "cmd/main.go"); got != "local version\n" {
			t.Fatalf("conflict: local lost: %q", got)
		}
		if got, _ := read(p.pod, "cmd/main.go"); got != "local version\n" {
			t.Fatalf("conflict: pod not given the local version: %q", got)
		}
		s := n2.Status()
		if len(s.Conflicts) != 1 || s.Conflicts[0].Path != "cmd/main.go" || !strings.Contains(s.Conflicts[0].SavedAs, ".paude-conflict-paude-test-pod-") {
			t.Fatalf("conflicts %+v", s.Conflicts)
		}
		if got, _ := read(p.local, s.Conflicts[0].SavedAs); got != "pod version!\n" {
			t.Fatalf("pod version not saved beside: %q", got)
		}
		if exists(p.pod, s.Conflicts[0].SavedAs) {
			t.Fatal("conflict copy was synced to the pod")
		}
	})

	t.Run("once", func(t *testing.T) {
		write(t, p.pod, "later.txt", "made after stop\n")
		write(t, p.local, "later-local.txt", "local after stop\n")
		n3 := p.engine(t)
		if err := n3.Once(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := read(p.local, "later.txt"); got != "made after stop\n" {
			t.Fatalf("once did not pull: %q", got)
		}
		if got, _ := read(p.pod, "later-local.txt"); got != "local after stop\n" {
			t.Fatalf("once did not push: %q", got)
		}
		if s := n3.Status(); s.State != psync.StateStopped {
			t.Fatalf("state after once: %s", s.State)
		}
	})
	if _, err := os.Stat(filepath.Join(p.local, ".git/config")); err != nil {
		t.Fatal(".git touched")
	}
}

func inode(t *testing.T, root, rel string) uint64 {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestNativeLargeFirstPushCatchesUp: on a large first push the session's
// watches go in only after it; a change made in the session meanwhile
// (here from the progress callback, once the push is acknowledged and
// before the watches are placed) is caught
// by the second manifest, and later changes by the watches.
func TestNativeLargeFirstPushCatchesUp(t *testing.T) {
	p := newPair(t)
	for i := range 1200 {
		write(t, p.local, fmt.Sprintf("d%02d/f%04d.txt", i/100, i), "x")
	}
	opts := p.options(t)
	injected := false
	opts.Progress = func(pr psync.Progress) {
		if pr.Phase == "verify" && !injected {
			injected = true
			write(t, p.pod, "made-during-push.txt", "agent was quick")
			if err := os.WriteFile(filepath.Join(p.pod, "d00/f0000.txt"), []byte("changed in the pod"), 0o644); err != nil {
				t.Error(err)
			}
		}
	}
	n, err := psync.NewNative(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(ctx) }()
	if !injected {
		t.Fatal("the progress callback never reported the end of the push")
	}
	if got, _ := read(p.local, "made-during-push.txt"); got != "agent was quick" {
		t.Fatalf("a file made during the push was missed: %q", got)
	}
	if got, _ := read(p.local, "d00/f0000.txt"); got != "changed in the pod" {
		t.Fatalf("a change made during the push was missed: %q", got)
	}
	write(t, p.pod, "d05/after.txt", "watched")
	eventually(t, "a pod change after start", hasContent(p.local, "d05/after.txt", "watched"))
	if s := n.Status(); len(s.Conflicts)+len(s.Refused) != 0 {
		t.Fatalf("status %+v", s)
	}
}

// TestNativeSimultaneousEdits races an edit on each side of the same file.
// Whichever way the race goes (a conflict found when the session's change
// is notified, one found when the push's precondition fails, or two edits
// in sequence), both sides end equal and neither edit is lost: each is
// the final content or a conflict copy beside it.
func TestNativeSimultaneousEdits(t *testing.T) {
	p := newPair(t)
	for i := range 20 {
		write(t, p.local, fmt.Sprintf("race/%02d.txt", i), "base")
	}
	n := p.engine(t)
	ctx := ctxT(t)
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Stop(ctx) }()
	for i := range 20 {
		rel := fmt.Sprintf("race/%02d.txt", i)
		done := make(chan struct{})
		go func() {
			write(t, p.pod, rel, "pod edit")
			close(done)
		}()
		write(t, p.local, rel, "local edit")
		<-done
	}
	settled := func() bool {
		for i := range 20 {
			rel := fmt.Sprintf("race/%02d.txt", i)
			l, _ := read(p.local, rel)
			r, _ := read(p.pod, rel)
			if l != r {
				return false
			}
		}
		return true
	}
	eventually(t, "both sides to agree", settled)
	_ = n.Flush(ctx)
	eventually(t, "both sides to agree after a flush", settled)
	copies := map[string]string{}
	for _, c := range n.Status().Conflicts {
		if c.SavedAs != "" {
			b, _ := read(p.local, c.SavedAs)
			copies[c.Path] = b
		}
	}
	for i := range 20 {
		rel := fmt.Sprintf("race/%02d.txt", i)
		final, _ := read(p.local, rel)
		for _, edit := range []string{"local edit", "pod edit"} {
			if final != edit && copies[rel] != edit {
				t.Errorf("%s: the %q was lost (final %q, conflict copy %q)", rel, edit, final, copies[rel])
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Join(p.pod, "race"))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".paude-conflict-") {
			t.Fatalf("a conflict copy reached the pod: %s", e.Name())
		}
	}
}
