package hostpath

import (
	"bufio"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeTree is a directory lister over the directories named in a
// testdata file, as a Mac would list them.
type fakeTree map[string][]string

func loadTree(t *testing.T, name string) fakeTree {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	tree := fakeTree{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for p := line; p != "/"; p = path.Dir(p) {
			dir, base := path.Dir(p), path.Base(p)
			if !slices.Contains(tree[dir], base) {
				tree[dir] = append(tree[dir], base)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tree
}

var errUnreadable = errors.New("permission denied")

func (f fakeTree) list(dir string) ([]string, error) {
	if dir == "/Users/Other" {
		return nil, errUnreadable
	}
	return f[dir], nil
}

func TestRealSpellsNamesAsStored(t *testing.T) {
	tree := loadTree(t, "macos-tree.txt")
	mac := Resolver{FoldCase: true, ReadDirNames: tree.list}
	tests := []struct {
		name, in, want string
	}{
		{"the stored spelling stays", "/Users/Me/src/Proj", "/Users/Me/src/Proj"},
		{"every part in another case", "/users/ME/SRC/proj", "/Users/Me/src/Proj"},
		{"a trailing slash and dots", "/users/me/./src/../src/PROJ/", "/Users/Me/src/Proj"},
		{"a composed name finds the decomposed one", "/Users/Me/Caf\u00e9", "/Users/Me/Cafe\u0301"},
		{"a part that does not exist is kept as typed", "/users/me/src/Nothere/x", "/Users/Me/src/Nothere/x"},
		{"the exact name on a case-sensitive volume", "/volumes/casesensitive/dir", "/Volumes/CaseSensitive/dir"},
		{"two names that fold alike are left as typed", "/Volumes/CaseSensitive/DIR", "/Volumes/CaseSensitive/DIR"},
		{"an unlistable directory keeps the rest", "/users/other/Secret", "/Users/Other/Secret"},
		{"the root", "/", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mac.Real(tt.in); got != tt.want {
				t.Errorf("Real(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("a case-sensitive file system keeps every name", func(t *testing.T) {
		linux := Resolver{ReadDirNames: tree.list}
		if got := linux.Real("/users/me/src/proj"); got != "/users/me/src/proj" {
			t.Errorf("Real = %q", got)
		}
	})
}

// TestRealResolvesSymlinks builds macOS's /var -> /private/var in a
// temporary directory: the name podman's machine and git see is the one
// under private/, whichever way the user came.
func TestRealResolvesSymlinks(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "private", "var", "folders", "ab", "T", "proj")
	if err := os.MkdirAll(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("private", "var"), filepath.Join(root, "var")); err != nil {
		t.Fatal(err)
	}
	root = Resolver{}.Real(root) // the temporary directory may itself be behind a link
	real = filepath.Join(root, "private", "var", "folders", "ab", "T", "proj")
	for _, r := range []Resolver{{}, {FoldCase: true}} {
		for _, in := range []string{
			filepath.Join(root, "var", "folders", "ab", "T", "proj"),
			filepath.Join(root, "var", "folders", "ab", "T", "proj") + "/",
			real,
		} {
			if got := r.Real(in); got != real {
				t.Errorf("FoldCase=%v: Real(%q) = %q, want %q", r.FoldCase, in, got, real)
			}
		}
	}
	t.Run("the real directory lister finds the stored spelling", func(t *testing.T) {
		in := filepath.Join(root, "PRIVATE", "Var", "folders", "AB", "t", "Proj")
		if got := (Resolver{FoldCase: true}).Real(in); got != real {
			t.Errorf("Real(%q) = %q, want %q", in, got, real)
		}
	})
	t.Run("a path still to be made is resolved as far as it exists", func(t *testing.T) {
		in := filepath.Join(root, "var", "folders", "new", "dir")
		want := filepath.Join(root, "private", "var", "folders", "new", "dir")
		if got := (Resolver{}).Real(in); got != want {
			t.Errorf("Real(%q) = %q, want %q", in, got, want)
		}
	})
	t.Run("a relative path is made absolute", func(t *testing.T) {
		t.Chdir(filepath.Join(root, "var", "folders"))
		if got := (Resolver{}).Real(filepath.Join("ab", "T", "proj")); got != real {
			t.Errorf("Real = %q, want %q", got, real)
		}
	})
}
