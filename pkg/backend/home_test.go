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
		// gcloud: the ADC file and the active configuration only.
		".config/gcloud/application_default_credentials.json", ".config/gcloud/logs/x.log", ".config/gcloud/virtenv/bin/python",
		".config/gcloud/credentials.db", ".config/gcloud/access_tokens.db", ".config/gcloud/legacy_credentials/me@example.com/adc.json",
		".config/gcloud/configurations/config_work", ".config/gcloud/configurations/config_default",
		".gitconfig",
		// claude: settings, memory, login, agents and commands only.
		".claude/settings.json", ".claude/CLAUDE.md", ".claude/.credentials.json",
		".claude/agents/a.md", ".claude/commands/deep/c.md",
		".claude/settings.local.json", ".claude/projects/other/transcript.jsonl", ".claude/todos/t.json",
		".claude/history.jsonl", ".claude/plugins/p/x.js", ".claude/shell-snapshots/s.sh",
		".claude.json",
	)
	if err := os.WriteFile(filepath.Join(home, ".config/gcloud/active_config"), []byte("work\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	// A Kubernetes-reserved name is left out.
	write(t, home, ".claude/agents/..data/x")
	files, skipped, err := HomeFiles(home)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"gcloud:.config/gcloud/application_default_credentials.json", "gcloud:.config/gcloud/active_config",
		"gcloud:.config/gcloud/configurations/config_work",
		"gitconfig:.gitconfig",
		"claude:.claude/agents/a.md", "claude:.claude/commands/deep/c.md",
		"claude:.claude/settings.json", "claude:.claude/CLAUDE.md", "claude:.claude/.credentials.json", "claude:.claude.json",
	}
	if got := rels(files); !reflect.DeepEqual(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if len(skipped) != 0 {
		t.Errorf("skipped = %q", skipped)
	}
	for _, f := range files {
		if f.Size != int64(len("x")) && f.Rel != ".config/gcloud/active_config" || !filepath.IsAbs(f.Source) || f.Mode != 0o640 {
			t.Errorf("%s: mode %v size %d source %q", f.Rel, f.Mode, f.Size, f.Source)
		}
	}
}

// TestHomeFilesGcloudActive: the active configuration is the one
// active_config names, "default" without it, and none when the name is
// not one gcloud writes (it becomes part of a path).
func TestHomeFilesGcloudActive(t *testing.T) {
	tests := []struct {
		name   string
		active string // "" = no active_config file
		want   []string
	}{
		{"no active_config means default", "", []string{"gcloud:.config/gcloud/configurations/config_default"}},
		{"named", "work", []string{"gcloud:.config/gcloud/active_config", "gcloud:.config/gcloud/configurations/config_work"}},
		{"a path is not a name", "../../../.ssh/id_rsa", []string{"gcloud:.config/gcloud/active_config"}},
		{"the named one is missing", "gone", []string{"gcloud:.config/gcloud/active_config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			write(t, home, ".config/gcloud/configurations/config_default", ".config/gcloud/configurations/config_work", ".ssh/id_rsa")
			if tt.active != "" {
				if err := os.WriteFile(filepath.Join(home, ".config/gcloud/active_config"), []byte(tt.active), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			files, _, err := HomeFiles(home)
			if err != nil {
				t.Fatal(err)
			}
			if got := rels(files); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("files = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHomeFilesFollowsSymlinks: dotfile managers link ~/.claude and the
// files in it; both backends read them where they point, and neither
// enters a symlinked directory below the top.
func TestHomeFilesFollowsSymlinks(t *testing.T) {
	home, dotfiles, outside := t.TempDir(), t.TempDir(), t.TempDir()
	write(t, dotfiles, "claude/settings.json", "claude/CLAUDE.md", "claude/agents/a.md", "gitconfig")
	write(t, outside, "secret/id_rsa")
	if err := os.Symlink(filepath.Join(dotfiles, "claude"), filepath.Join(home, ".claude")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dotfiles, "gitconfig"), filepath.Join(home, ".gitconfig")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dotfiles, "claude", "agents", "linked-dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dotfiles, "missing"), filepath.Join(dotfiles, "claude", "agents", "dangling")); err != nil {
		t.Fatal(err)
	}
	files, skipped, err := HomeFiles(home)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"gitconfig:.gitconfig", "claude:.claude/agents/a.md", "claude:.claude/settings.json", "claude:.claude/CLAUDE.md"}
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
