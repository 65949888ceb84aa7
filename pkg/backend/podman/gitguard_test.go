package podman

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestGitGuardMounts(t *testing.T) {
	write := func(t *testing.T, p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ro := func(ws string, rels ...string) []mount {
		var ms []mount
		for _, r := range rels {
			p := filepath.Join(ws, r)
			ms = append(ms, mount{Source: p, Target: p, ReadOnly: true})
		}
		return ms
	}
	t.Run("no git directory", func(t *testing.T) {
		ms, err := gitGuardMounts(t.TempDir(), true)
		if err != nil || ms != nil {
			t.Fatalf("%v %v", ms, err)
		}
	})
	t.Run("a worktree's .git file", func(t *testing.T) {
		ws := t.TempDir()
		write(t, filepath.Join(ws, ".git"))
		ms, err := gitGuardMounts(ws, true)
		if err != nil || ms != nil {
			t.Fatalf("%v %v", ms, err)
		}
	})
	t.Run("config, hooks and a nested submodule", func(t *testing.T) {
		ws := t.TempDir()
		write(t, filepath.Join(ws, ".git/config"))
		write(t, filepath.Join(ws, ".git/hooks/pre-commit.sample"))
		write(t, filepath.Join(ws, ".git/modules/lib/config"))
		write(t, filepath.Join(ws, ".git/modules/lib/modules/deep/config"))
		write(t, filepath.Join(ws, ".git/modules/lib/modules/deep/hooks/x"))
		ms, err := gitGuardMounts(ws, true)
		if err != nil {
			t.Fatal(err)
		}
		want := ro(ws, ".git/config", ".git/hooks", ".git/modules/lib/config", ".git/modules/lib/hooks",
			".git/modules/lib/modules/deep/config", ".git/modules/lib/modules/deep/hooks")
		if !reflect.DeepEqual(ms, want) {
			t.Fatalf("got %+v\nwant %+v", ms, want)
		}
		// The missing hooks directory of lib was created, empty.
		if entries, err := os.ReadDir(filepath.Join(ws, ".git/modules/lib/hooks")); err != nil || len(entries) != 0 {
			t.Fatalf("lib hooks: %v %v", entries, err)
		}
	})
	t.Run("dry run creates nothing", func(t *testing.T) {
		ws := t.TempDir()
		write(t, filepath.Join(ws, ".git/config"))
		ms, err := gitGuardMounts(ws, false)
		if err != nil || !reflect.DeepEqual(ms, ro(ws, ".git/config")) {
			t.Fatalf("%+v %v", ms, err)
		}
		if _, err := os.Stat(filepath.Join(ws, ".git/hooks")); !os.IsNotExist(err) {
			t.Fatalf("hooks created by a dry run: %v", err)
		}
	})
	for _, link := range []string{".git", ".git/hooks", ".git/config"} {
		t.Run("symlinked "+link+" is refused", func(t *testing.T) {
			ws := t.TempDir()
			if err := os.MkdirAll(filepath.Join(ws, filepath.Dir(link)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(t.TempDir(), filepath.Join(ws, link)); err != nil {
				t.Fatal(err)
			}
			_, err := gitGuardMounts(ws, true)
			if err == nil || !strings.Contains(err.Error(), "is a symlink") {
				t.Fatalf("got %v", err)
			}
		})
	}
}
