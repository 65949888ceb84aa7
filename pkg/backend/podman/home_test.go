package podman

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
)

// TestWriteHomeTar: the home copy carries each selected file with its
// mode and content, its parent directories, and the env file; a
// symlinked ~/.claude arrives with the files it points to, not as a
// dangling link.
func TestWriteHomeTar(t *testing.T) {
	home, dotfiles := t.TempDir(), t.TempDir()
	mkTree(t, dotfiles, "claude/settings.json")
	if err := os.Symlink(filepath.Join(dotfiles, "claude"), filepath.Join(home, ".claude")); err != nil {
		t.Fatal(err)
	}
	mkTree(t, home, ".config/gcloud/application_default_credentials.json", ".gitconfig")
	if err := os.Chmod(filepath.Join(home, ".gitconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	files, _, err := backend.HomeFiles(home)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeHomeTar(&buf, homeContent{Files: files, Env: map[string]string{"B": "two\nlines", "A": ""}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		got = append(got, fmt.Sprintf("%c %04o %s %q", hdr.Typeflag, hdr.Mode, hdr.Name, data))
	}
	want := []string{
		`5 0700 .config/ ""`,
		`5 0700 .config/gcloud/ ""`,
		`0 0644 .config/gcloud/application_default_credentials.json "x"`,
		`0 0600 .gitconfig "x"`,
		`5 0700 .claude/ ""`,
		`0 0644 .claude/settings.json "x"`,
		`5 0700 .paude/ ""`,
		`0 0600 .paude/env "A=\x00B=two\nlines\x00"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tar entries\n got: %q\nwant: %q", got, want)
	}
	if err := writeHomeTar(io.Discard, homeContent{Env: map[string]string{"X": "a\x00b"}}); err == nil {
		t.Error("a NUL in a value was accepted")
	}
}
