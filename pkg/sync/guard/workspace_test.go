package guard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

type fixture struct {
	root, outside string
	ws            *Workspace
}

func newFixture(t *testing.T, fold bool) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{root: filepath.Join(base, "ws"), outside: filepath.Join(base, "outside")}
	for _, d := range []string{f.root, f.outside, filepath.Join(f.root, ".git/hooks"), filepath.Join(f.root, "src")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.write(t, ".git/config", "[core]\n")
	f.write(t, "src/a.txt", "a")
	if err := os.Symlink(f.outside, filepath.Join(f.root, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("src", filepath.Join(f.root, "in")); err != nil {
		t.Fatal(err)
	}
	x, _ := tree.NewExcludes([]string{"node_modules"})
	ws, err := Open(f.root, Policy{Excludes: x, CaseInsensitive: fold})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	f.ws = ws
	return f
}

func (f *fixture) write(t *testing.T, rel, content string) {
	t.Helper()
	p := filepath.Join(f.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) put(rel, content string, mode uint32) (wire.Entry, error) {
	e := wire.Entry{Op: wire.OpPut, Kind: wire.KindFile, Path: rel, Mode: mode, Size: int64(len(content)), Mtime: 1_600_000_000_123_456_789}
	return f.ws.PutFile(&e, strings.NewReader(content), func() (bool, error) { return true, nil })
}

func wantRule(t *testing.T, err error, rule Rule) {
	t.Helper()
	var r *Refusal
	if !errors.As(err, &r) || r.Rule != rule {
		t.Fatalf("got %v, want a %s refusal", err, rule)
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestPutFile(t *testing.T) {
	f := newFixture(t, false)
	st, err := f.put("new/dir/x.txt", "hello", 0o666)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(f.root, "new/dir/x.txt"))
	if err != nil || fi.Mode().Perm() != 0o644 || st.Size != 5 || fi.ModTime().UnixNano() != 1_600_000_000_123_456_789 {
		t.Fatalf("written %v %v (perm %v): a file from the session must not be group- or world-writable, and keeps its mtime", st, err, fi.Mode())
	}
	if _, err := f.put("run.sh", "#!/bin/sh", 0o700); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(f.root, "run.sh")); fi.Mode().Perm() != 0o755 {
		t.Fatalf("executable bit: %v", fi.Mode())
	}
	// An existing file keeps its permissions; only the executable bit
	// follows the session.
	if err := os.Chmod(filepath.Join(f.root, "src/a.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.put("src/a.txt", "b", 0o777); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(f.root, "src/a.txt")); fi.Mode().Perm() != 0o700 {
		t.Fatalf("existing perms: %v", fi.Mode())
	}
}

func TestPutFileChangedLeavesNothing(t *testing.T) {
	f := newFixture(t, false)
	e := wire.Entry{Op: wire.OpPut, Kind: wire.KindFile, Path: "src/a.txt", Size: 3}
	_, err := f.ws.PutFile(&e, strings.NewReader("new"), func() (bool, error) { return false, nil })
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(f.root, "src/a.txt")); string(b) != "a" {
		t.Fatalf("file replaced by unstable content: %q", b)
	}
	for _, p := range entries(t, filepath.Join(f.root, "src")) {
		if strings.Contains(p, tree.TempPrefix) {
			t.Fatalf("temporary file left: %s", p)
		}
	}
}

func TestNeverWritesThroughASymlink(t *testing.T) {
	f := newFixture(t, false)
	for _, rel := range []string{"out/pwned", "in/pwned", "out/deep/pwned"} {
		t.Run(rel, func(t *testing.T) {
			_, err := f.put(rel, "x", 0o644)
			wantRule(t, err, RuleSymlinkAncestor)
			_, err = f.ws.Mkdir(&wire.Entry{Op: wire.OpPut, Kind: wire.KindDir, Path: rel})
			wantRule(t, err, RuleSymlinkAncestor)
			_, err = f.ws.Remove(rel, nil)
			wantRule(t, err, RuleSymlinkAncestor)
		})
	}
	if got := entries(t, f.outside); len(got) != 0 {
		t.Fatalf("written outside the workspace: %v", got)
	}
	if _, err := os.Lstat(filepath.Join(f.root, "src/pwned")); err == nil {
		t.Fatal("written through an inside symlink")
	}
	// The symlink itself can be replaced: that writes no file through it.
	if _, err := f.put("out", "now a file", 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(f.root, "out")); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("symlink not replaced: %v", err)
	}
}

func TestSymlinkTargets(t *testing.T) {
	f := newFixture(t, false)
	if err := os.Symlink("../..", filepath.Join(f.root, "src/up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop2", filepath.Join(f.root, "loop1")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop1", filepath.Join(f.root, "loop2")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		link, target string
		want         Rule
	}{
		{"l1", "src/a.txt", ""},
		{"src/l2", "../src/a.txt", ""},
		{"src/l3", "a.txt", ""},
		{"l4", "in/a.txt", ""},
		{"l5", "not/yet/there", ""},
		{"l6", "../outside", RuleSymlinkEscape},
		{"src/l7", "../../x", RuleSymlinkEscape},
		{"l8", "src/../../x", RuleSymlinkEscape},
		{"l9", "/etc/passwd", RuleSymlinkEscape},
		{"l10", "out/secret", RuleSymlinkEscape},
		{"l11", "src/up/x", RuleSymlinkEscape},
		{"l12", ".git/config", RuleGitDir},
		{"l13", "src/../.GIT/hooks", RuleGitDir},
		{"l14", "loop1/x", RuleSymlinkEscape},
	}
	for _, c := range cases {
		t.Run(c.link+"->"+c.target, func(t *testing.T) {
			_, err := f.ws.Symlink(&wire.Entry{Op: wire.OpPut, Kind: wire.KindSymlink, Path: c.link, Target: c.target})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := os.Readlink(filepath.Join(f.root, c.link)); got != c.target {
					t.Fatalf("target %q", got)
				}
				return
			}
			wantRule(t, err, c.want)
			if _, err := os.Lstat(filepath.Join(f.root, c.link)); err == nil {
				t.Fatal("refused symlink exists")
			}
		})
	}
}

func TestMkdirReplacesAFile(t *testing.T) {
	f := newFixture(t, false)
	if _, err := f.ws.Mkdir(&wire.Entry{Op: wire.OpPut, Kind: wire.KindDir, Path: "src/a.txt"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(f.root, "src/a.txt")); err != nil || !fi.IsDir() {
		t.Fatalf("not a directory: %v", err)
	}
}

func TestRemoveKeepsWhatIsNotSynced(t *testing.T) {
	f := newFixture(t, false)
	f.write(t, "pkg/x.go", "x")
	f.write(t, "pkg/local-only.go", "mine")
	f.write(t, "pkg/node_modules/dep.js", "d")
	f.write(t, "pkg/nested/.git/config", "[core]")
	f.write(t, "pkg/nested/y.go", "y")
	f.write(t, "gone/z.go", "z")
	kept, err := f.ws.Remove("pkg", func(e wire.Entry) bool { return e.Path == "pkg/local-only.go" })
	if err != nil || !kept {
		t.Fatalf("kept=%v err=%v", kept, err)
	}
	for rel, want := range map[string]bool{
		"pkg/x.go": false, "pkg/nested/y.go": false, "pkg/local-only.go": true,
		"pkg/node_modules/dep.js": true, "pkg/nested/.git/config": true,
	} {
		if _, err := os.Lstat(filepath.Join(f.root, rel)); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", rel, err == nil, want)
		}
	}
	if kept, err := f.ws.Remove("gone", nil); err != nil || kept {
		t.Fatalf("kept=%v err=%v", kept, err)
	}
	if _, err := os.Lstat(filepath.Join(f.root, "gone")); err == nil {
		t.Fatal("empty directory kept")
	}
	if _, err := f.ws.Remove("missing/file", nil); err != nil {
		t.Fatalf("missing path: %v", err)
	}
	_, err = f.ws.Remove(".git", nil)
	wantRule(t, err, RuleGitDir)
	if _, err := os.Stat(filepath.Join(f.root, ".git/config")); err != nil {
		t.Fatal(".git removed")
	}
}

func TestRename(t *testing.T) {
	f := newFixture(t, false)
	if _, err := f.ws.Rename("src/a.txt", "docs/b.txt"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(f.root, "docs/b.txt")); string(b) != "a" {
		t.Fatal("not renamed")
	}
	f.write(t, "repo/.git/HEAD", "ref")
	_, err := f.ws.Rename("repo", "elsewhere")
	wantRule(t, err, RuleGitDir)
	_, err = f.ws.Rename("docs/b.txt", ".git/hooks/pre-commit")
	wantRule(t, err, RuleGitDir)
	_, err = f.ws.Rename("docs/b.txt", "out/b.txt")
	wantRule(t, err, RuleSymlinkAncestor)
	if got := entries(t, f.outside); len(got) != 0 {
		t.Fatalf("moved outside: %v", got)
	}
}

func TestCaseInsensitiveCollisions(t *testing.T) {
	f := newFixture(t, true)
	f.write(t, "README.md", "r")
	f.write(t, "caf\u00e9.txt", "nfc")
	cases := []struct {
		rel  string
		want Rule
	}{
		{"README.md", ""},
		{"readme.md", RuleCaseCollision},
		{"cafe\u0301.txt", RuleCaseCollision},
		{"SRC/new.txt", RuleCaseCollision},
		{"Notes.txt", ""},
		{"notes.TXT", RuleCaseCollision},
	}
	for _, c := range cases {
		t.Run(c.rel, func(t *testing.T) {
			_, err := f.put(c.rel, "x", 0o644)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantRule(t, err, c.want)
		})
	}
	if _, err := os.Lstat(filepath.Join(f.root, "readme.md")); err == nil {
		t.Fatal("colliding file written")
	}
	// Without the flag (a case-sensitive file system) both names live.
	g := newFixture(t, false)
	g.write(t, "README.md", "r")
	if _, err := g.put("readme.md", "x", 0o644); err != nil {
		t.Fatal(err)
	}
}

// A symlink accepted where it is must not lead out of the workspace
// later, when another name changes or the link moves: a target may climb
// only at its start, and symlinks (or directories holding one) are
// copied, not moved, so each link is checked at its new place. The
// controls show each target resolves inside when it is made.
func TestSymlinksStayInsideLater(t *testing.T) {
	link := func(f *fixture, rel, target string) error {
		_, err := f.ws.Symlink(&wire.Entry{Op: wire.OpPut, Kind: wire.KindSymlink, Path: rel, Target: target})
		return err
	}
	mkdir := func(f *fixture, rel string) {
		t.Helper()
		if _, err := f.ws.Mkdir(&wire.Entry{Op: wire.OpPut, Kind: wire.KindDir, Path: rel, Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("a climb after a name", func(t *testing.T) {
		f := newFixture(t, false)
		mkdir(f, "d1")
		mkdir(f, "d1/d2")
		if err := link(f, "s", "d1/d2"); err != nil {
			t.Fatal(err)
		}
		// s/../../secret resolves to the workspace's own secret today, and
		// outside once s is a plain directory.
		var r *Refusal
		if err := link(f, "x", "s/../../secret"); !errors.As(err, &r) || r.Rule != RuleSymlinkEscape {
			t.Fatalf("x -> s/../../secret: %v, want a symlink-escape refusal", err)
		}
		if err := link(f, "y", "d1/d2/../../src/a.txt"); !errors.As(err, &r) {
			t.Errorf("a climb after plain names: %v, want a refusal", err)
		}
		// Control: climbing first, within the link's depth.
		if err := link(f, "src/ok", "../d1/d2"); err != nil {
			t.Errorf("control src/ok -> ../d1/d2: %v", err)
		}
	})
	t.Run("moved links are copied", func(t *testing.T) {
		f := newFixture(t, false)
		mkdir(f, "a")
		mkdir(f, "a/b")
		if err := link(f, "a/b/up", "../.."); err != nil {
			t.Fatalf("control a/b/up -> ../..: %v", err)
		}
		if err := link(f, "a/l", "../src"); err != nil {
			t.Fatalf("control a/l -> ../src: %v", err)
		}
		// Moved one level up, up and l would leave the workspace.
		for _, mv := range [][2]string{{"a/b", "c"}, {"a/l", "l"}, {"a", "z"}} {
			if _, err := f.ws.Rename(mv[0], mv[1]); !errors.Is(err, ErrCopyInstead) {
				t.Errorf("rename %s to %s: %v, want ErrCopyInstead", mv[0], mv[1], err)
			}
		}
		if _, err := os.Lstat(filepath.Join(f.root, "a/b/up")); err != nil {
			t.Errorf("a refused move moved something: %v", err)
		}
		// Control: a directory without links moves.
		mkdir(f, "plain")
		if _, err := f.put("plain/f.txt", "x", 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ws.Rename("plain", "moved"); err != nil {
			t.Errorf("control: a plain directory did not move: %v", err)
		}
	})
}
