package backend

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// write creates files below root ("a/b": content "x"; "a/": a directory).
func write(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

func rels(files []HomeFile) []string {
	var out []string
	for _, f := range files {
		out = append(out, string(f.Kind)+":"+f.Rel)
	}
	return out
}

func TestHomeFiles(t *testing.T) {
	home := t.TempDir()
	write(t, home,
		".config/gcloud/application_default_credentials.json", ".config/gcloud/logs/x.log", ".config/gcloud/virtenv/bin/python",
		".gitconfig",
		".claude/settings.json", ".claude/agents/a.md", ".claude/projects/other/transcript.jsonl", ".claude/todos/t.json",
		".claude.json",
	)
	// A socket-like oddity and a Kubernetes-reserved name are left out.
	write(t, home, ".claude/..data/x")
	files, skipped, err := HomeFiles(home)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"gcloud:.config/gcloud/application_default_credentials.json",
		"gitconfig:.gitconfig",
		"claude:.claude/agents/a.md", "claude:.claude/settings.json", "claude:.claude.json",
	}
	if got := rels(files); !reflect.DeepEqual(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if len(skipped) != 0 {
		t.Errorf("skipped = %q", skipped)
	}
	for _, f := range files {
		if f.Mode != 0o640 || f.Size != 1 || !filepath.IsAbs(f.Source) {
			t.Errorf("%s: mode %v size %d source %q", f.Rel, f.Mode, f.Size, f.Source)
		}
	}
}

// TestHomeFilesFollowsSymlinks: dotfile managers link ~/.claude and the
// files in it; both backends read them where they point, and neither
// enters a symlinked directory below the top.
func TestHomeFilesFollowsSymlinks(t *testing.T) {
	home, dotfiles, outside := t.TempDir(), t.TempDir(), t.TempDir()
	write(t, dotfiles, "claude/settings.json", "claude/CLAUDE.md", "gitconfig")
	write(t, outside, "secret/id_rsa")
	if err := os.Symlink(filepath.Join(dotfiles, "claude"), filepath.Join(home, ".claude")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dotfiles, "gitconfig"), filepath.Join(home, ".gitconfig")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dotfiles, "claude", "linked-dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dotfiles, "missing"), filepath.Join(dotfiles, "claude", "dangling")); err != nil {
		t.Fatal(err)
	}
	files, skipped, err := HomeFiles(home)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"gitconfig:.gitconfig", "claude:.claude/CLAUDE.md", "claude:.claude/settings.json"}
	if got := rels(files); !reflect.DeepEqual(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Source, dotfiles) {
			t.Errorf("%s is read from %s, not where the link points", f.Rel, f.Source)
		}
	}
	if want := []string{"Skipping gcloud credentials: ~/.config/gcloud not found"}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped = %q", skipped)
	}
}

func TestHomeFilesWrongKinds(t *testing.T) {
	home := t.TempDir()
	// A ~/.gitconfig directory and a ~/.claude file are not what the
	// agent expects: left out, not an error.
	write(t, home, ".gitconfig/", ".claude", ".config/gcloud")
	files, skipped, err := HomeFiles(home)
	if err != nil || len(files) != 0 || len(skipped) != 3 {
		t.Errorf("files %q skipped %q err %v", rels(files), skipped, err)
	}
	if files, skipped, err := HomeFiles(""); err != nil || files != nil || skipped != nil {
		t.Errorf("no home: %v %v %v", files, skipped, err)
	}
}
