package podman

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/config"
)

// mkTree creates files ("a/b") and directories ("a/") under root.
func mkTree(t *testing.T, root string, paths ...string) {
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
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVenvDirs(t *testing.T) {
	tests := []struct {
		name    string
		tree    []string
		venv    config.Venv
		want    []string
		wantErr string
	}{
		{"auto finds existing ones", []string{".venv/", "venv/"}, config.Venv{Mode: config.VenvAuto}, []string{".venv", "venv"}, ""},
		{"auto skips missing and files", []string{"venv"}, config.Venv{Mode: config.VenvAuto}, nil, ""},
		{"empty mode is auto", []string{".venv/"}, config.Venv{}, []string{".venv"}, ""},
		{"none", []string{".venv/"}, config.Venv{Mode: config.VenvNone}, nil, ""},
		{"list", []string{"py/env/", ".venv/"}, config.Venv{Mode: config.VenvList, Dirs: []string{"py/env/", "missing"}}, []string{"py/env"}, ""},
		{"escape", nil, config.Venv{Mode: config.VenvList, Dirs: []string{"../x"}}, nil, "leaves the workspace"},
		{"absolute", nil, config.Venv{Mode: config.VenvList, Dirs: []string{"/etc"}}, nil, "leaves the workspace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			mkTree(t, ws, tt.tree...)
			got, err := venvDirs(tt.venv, ws)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("a symlinked venv is not followed", func(t *testing.T) {
		ws := t.TempDir()
		if err := os.Symlink(t.TempDir(), filepath.Join(ws, ".venv")); err != nil {
			t.Fatal(err)
		}
		if got, err := venvDirs(config.Venv{Mode: config.VenvAuto}, ws); err != nil || got != nil {
			t.Errorf("got %q, %v", got, err)
		}
	})
}

func TestWorkspaceMounts(t *testing.T) {
	got := workspaceMounts("/src/p", []string{".venv"})
	want := []string{"/src/p:/src/p", stateVolume("/src/p") + ":/var/lib/paude-state:U",
		venvVolume("/src/p", ".venv") + ":/src/p/.venv:U"}
	var flags []string
	for _, m := range got {
		flags = append(flags, m.flag())
	}
	if !reflect.DeepEqual(flags, want) {
		t.Errorf("got %q, want %q", flags, want)
	}
}
