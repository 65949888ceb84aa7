package tree

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/sync/wire"
)

func TestExcludes(t *testing.T) {
	x, err := NewExcludes([]string{"node_modules", ".venv", "__pycache__", "/build/", "*.log", "!keep.log", "docs/**/*.tmp", "# comment", ""})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path  string
		isDir bool
		want  bool
	}{
		{"node_modules", true, true},
		{"a/node_modules/b/c.js", false, true},
		{".venv/bin/python", false, true},
		{"pkg/__pycache__/x.pyc", false, true},
		{"build", true, true},
		{"build/out.o", false, true},
		{"sub/build/out.o", false, false},
		{"build", false, false},
		{"debug.log", false, true},
		{"keep.log", false, false},
		{"docs/a/b/x.tmp", false, true},
		{"src/main.go", false, false},
		{".git", true, true},
		{"sub/.git/config", false, true},
		{".GIT/config", false, true},
		{".gitignore", false, false},
		{".github/workflows/ci.yml", false, false},
		{"a.txt.paude-conflict-pod-20260101T000000Z", false, true},
		{".paude-tmp-0011", false, true},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			if got := x.Match(c.path, c.isDir); got != c.want {
				t.Fatalf("Match(%q, dir=%v) = %v, want %v", c.path, c.isDir, got, c.want)
			}
		})
	}
	if got := x.Patterns(); len(got) != 7 {
		t.Fatalf("patterns %q", got)
	}
	if _, err := NewExcludes([]string{"a\x00b"}); err == nil {
		t.Fatal("NUL in a pattern accepted")
	}
}

func TestIsGitName(t *testing.T) {
	for name, want := range map[string]bool{
		".git": true, ".GIT": true, ".Git": true, ".g\u200cit": true, "\ufeff.git": true, ".gi\u200dt\u200e": true,
		".gitignore": false, ".github": false, "git": false, "..git": false, ".gi": false,
	} {
		if got := IsGitName(name); got != want {
			t.Errorf("IsGitName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestFoldKey(t *testing.T) {
	if FoldKey("README.md") != FoldKey("readme.MD") {
		t.Fatal("case not folded")
	}
	if FoldKey("caf\u00e9") != FoldKey("cafe\u0301") {
		t.Fatal("NFC and NFD differ")
	}
	if FoldKey("a") == FoldKey("b") {
		t.Fatal("different names fold together")
	}
}

func mkTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range []string{"a.txt", "dir/b.txt", "dir/sub/c.txt", "node_modules/x.js", ".git/config"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestWalkNeverFollowsSymlinks(t *testing.T) {
	root := mkTree(t)
	d, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	x, _ := NewExcludes([]string{"node_modules"})
	var got []string
	kinds := map[string]wire.Kind{}
	if err := Walk(d, "", x, func(e wire.Entry) error {
		got = append(got, e.Path)
		kinds[e.Path] = e.Kind
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a.txt", "dir", "dir/b.txt", "dir/sub", "dir/sub/c.txt", "out"}
	if !slices.Equal(got, want) {
		t.Fatalf("walk %q, want %q", got, want)
	}
	if kinds["out"] != wire.KindSymlink {
		t.Fatalf("symlink reported as %s", kinds["out"])
	}
	if _, _, err := d.Walk("out"); !errors.Is(err, ErrSymlinkAncestor) {
		t.Fatalf("walking through a symlink: %v", err)
	}
	if _, ok, err := d.LstatPath("out/secret"); ok || err != nil {
		t.Fatalf("lstat through a symlink: ok=%v err=%v", ok, err)
	}
	if _, err := HashPath(d, "out/secret"); err == nil {
		t.Fatal("hashed a file through a symlink")
	}
	e, ok, err := d.LstatPath("dir/b.txt")
	if err != nil || !ok || e.Kind != wire.KindFile || e.Size != int64(len("dir/b.txt")) || e.Mtime == 0 || e.Ino == 0 {
		t.Fatalf("lstat %+v %v %v", e, ok, err)
	}
}

func TestWatcher(t *testing.T) {
	root := mkTree(t)
	d, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	x, _ := NewExcludes([]string{"node_modules"})
	w := Watch(root, d, x, WatchOptions{})
	defer w.Close()
	if polling, why := w.Polling(); polling {
		t.Skipf("no kernel watches here: %v", why)
	}
	seen := map[string]bool{}
	collect := func(want ...string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			missing := false
			for _, p := range want {
				if !seen[p] {
					missing = true
				}
			}
			if !missing {
				return
			}
			select {
			case c := <-w.Changes():
				for _, p := range c.Paths {
					seen[p] = true
				}
			case <-deadline:
				t.Fatalf("never saw %q (saw %v)", want, seen)
			}
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "dir/sub/c.txt"), []byte("changed"), 0o644))
	collect("dir/sub/c.txt")
	// A new directory's contents are reported even if they were created
	// before its watch existed.
	must(os.MkdirAll(filepath.Join(root, "new/deep"), 0o755))
	must(os.WriteFile(filepath.Join(root, "new/deep/f.txt"), []byte("f"), 0o644))
	collect("new", "new/deep/f.txt")
	must(os.Rename(filepath.Join(root, "new"), filepath.Join(root, "moved")))
	collect("moved", "moved/deep/f.txt")
	// Changes in a renamed directory are reported under its new name.
	clear(seen)
	must(os.WriteFile(filepath.Join(root, "moved/deep/g.txt"), []byte("g"), 0o644))
	collect("moved/deep/g.txt")
	if seen["new/deep/g.txt"] {
		t.Fatal("reported under the old name")
	}
	must(os.WriteFile(filepath.Join(root, "node_modules/y.js"), []byte("y"), 0o644))
	must(os.WriteFile(filepath.Join(root, ".git/HEAD"), []byte("y"), 0o644))
	must(os.WriteFile(filepath.Join(root, "marker"), []byte("m"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Sync(ctx) }()
	for c := range w.Changes() {
		for _, p := range c.Paths {
			seen[p] = true
		}
		if c.Marker != nil {
			close(c.Marker)
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !seen["marker"] {
		t.Fatal("Sync returned before delivering a change made before it")
	}
	for p := range seen {
		if p == "node_modules/y.js" || p == ".git/HEAD" {
			t.Fatalf("excluded path %q reported", p)
		}
	}
}

func TestDirRefusesNonPlainNames(t *testing.T) {
	d, err := OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	for _, name := range []string{"", ".", "..", "a/b", "a\x00"} {
		if _, err := d.Sub(name); !errors.Is(err, ErrBadName) {
			t.Errorf("Sub(%q): %v", name, err)
		}
		if _, _, err := d.Lstat(name, name); !errors.Is(err, ErrBadName) {
			t.Errorf("Lstat(%q): %v", name, err)
		}
		if _, err := d.OpenFile(name); !errors.Is(err, ErrBadName) {
			t.Errorf("OpenFile(%q): %v", name, err)
		}
	}
}
