package podman

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestClaudeTarLeavesOutHistory: settings and the login go in; other
// projects' transcripts and file backups do not; links stay links.
func TestClaudeTarLeavesOutHistory(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, ".claude")
	mkTree(t, home,
		".claude/settings.json", ".claude/.credentials.json", ".claude/agents/reviewer.md",
		".claude/projects/-home-u-other/transcript.jsonl", ".claude/file-history/x/backup",
		".claude/todos/a.json", ".claude/shell-snapshots/s.sh", ".claude/sub/projects/kept.txt")
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(`{"theme":"dark"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "settings.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(home, ".ssh"), filepath.Join(dir, "ssh-link")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeClaudeTar(&buf, dir); err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		switch hdr.Name {
		case ".claude/settings.json":
			if b, _ := io.ReadAll(tr); string(b) != `{"theme":"dark"}` || hdr.Mode&0o777 != 0o600 {
				t.Errorf("settings.json: %q mode %o", b, hdr.Mode)
			}
		case ".claude/ssh-link":
			if hdr.Typeflag != tar.TypeSymlink || hdr.Linkname != filepath.Join(home, ".ssh") {
				t.Errorf("ssh-link: type %c link %q", hdr.Typeflag, hdr.Linkname)
			}
		}
	}
	sort.Strings(names)
	want := []string{".claude/", ".claude/.credentials.json", ".claude/agents/", ".claude/agents/reviewer.md",
		".claude/settings.json", ".claude/ssh-link", ".claude/sub/", ".claude/sub/projects/", ".claude/sub/projects/kept.txt"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("tar holds\n%q\nwant\n%q", names, want)
	}
}

func TestCopyClaudeDirStreamsTheTar(t *testing.T) {
	home := t.TempDir()
	mkTree(t, home, ".claude/settings.json", ".claude/projects/p/t.jsonl")
	f := newFake(t)
	in := &bytes.Buffer{}
	f.on("cp - ", "", nil).in = in
	b := newTestBackend(t, f, Options{})
	if err := b.copyClaudeDir(context.Background(), filepath.Join(home, ".claude"), "paude-x"); err != nil {
		t.Fatal(err)
	}
	diffCalls(t, f.Calls(), []string{"cp - paude-x:/home/paude"})
	if !strings.Contains(in.String(), ".claude/settings.json") || strings.Contains(in.String(), "t.jsonl") {
		t.Fatalf("streamed tar has the wrong files")
	}
	t.Run("podman failing does not hang the writer", func(t *testing.T) {
		f := newFake(t)
		f.on("cp - ", "", fail(125, "no such container"))
		err := newTestBackend(t, f, Options{}).copyClaudeDir(context.Background(), filepath.Join(home, ".claude"), "paude-x")
		if err == nil || !strings.Contains(err.Error(), "failed to copy") {
			t.Fatalf("got %v", err)
		}
	})
}
