//go:build release

package release

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// entry is one file in a release archive.
type entry struct {
	mode fs.FileMode
	data []byte
}

// readArchive returns the regular files of the .tar.gz at path by name,
// and fails on anything else (directories, links, paths with a directory).
func readArchive(t *testing.T, path string) map[string]entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s is not gzip: %v", path, err)
	}
	files := map[string]entry{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		if h.Typeflag != tar.TypeReg || strings.Contains(h.Name, "/") {
			t.Fatalf("%s holds %q (type %c): want only regular files at the top", path, h.Name, h.Typeflag)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = entry{mode: h.FileInfo().Mode(), data: b}
	}
	return files
}

// readChecksums parses checksums.txt into file name → sha256 hex.
func readChecksums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the release has no checksums: %v", err)
	}
	defer func() { _ = f.Close() }()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("%s: malformed line %q", path, sc.Text())
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sums
}

// TestArchives checks what `make release-snapshot` left in dist/: one
// .tar.gz per binary and platform and nothing else, each listed in
// checksums.txt with its true sha256, holding the binary, LICENSE and
// README.md (and the plugin's completion script), and each binary an
// executable for its platform built with make build's flags; the host's
// binaries run and print make build's version stamp.
func TestArchives(t *testing.T) {
	dist := requireEnv(t, "PAUDE_RELEASE_DIST")

	all, err := filepath.Glob(filepath.Join(dist, "*.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 8 {
		t.Errorf("dist has %d archives, want 8 (paude and kubectl-paude for 4 platforms): %q", len(all), all)
	}
	sums := readChecksums(t, filepath.Join(dist, "checksums.txt"))
	host := platform{runtime.GOOS, runtime.GOARCH}
	if len(sums) != len(all) {
		t.Errorf("checksums.txt lists %d files, dist has %d archives", len(sums), len(all))
	}

	repoFile := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	license, readme := repoFile("LICENSE"), repoFile("README.md")
	completion := repoFile("cmd/kubectl-paude/kubectl_complete-paude")

	tests := []struct {
		binary string
		extra  map[string][]byte // files besides LICENSE and README.md
	}{
		{binary: "paude"},
		{binary: "kubectl-paude", extra: map[string][]byte{"kubectl_complete-paude": completion}},
	}
	for _, tt := range tests {
		for _, p := range platforms {
			t.Run(tt.binary+"/"+p.String(), func(t *testing.T) {
				path := findArchive(t, dist, tt.binary, p)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(b)
				if got, want := sums[filepath.Base(path)], hex.EncodeToString(sum[:]); got != want {
					t.Errorf("checksums.txt lists %q for %s, its sha256 is %s", got, filepath.Base(path), want)
				}

				files := readArchive(t, path)
				want := map[string][]byte{"LICENSE": license, "README.md": readme}
				for name, data := range tt.extra {
					want[name] = data
				}
				var names []string
				for name := range files {
					names = append(names, name)
				}
				slices.Sort(names)
				wantNames := []string{tt.binary}
				for name := range want {
					wantNames = append(wantNames, name)
				}
				slices.Sort(wantNames)
				if !slices.Equal(names, wantNames) {
					t.Fatalf("%s holds %q, want %q", filepath.Base(path), names, wantNames)
				}
				for name, data := range want {
					if !bytes.Equal(files[name].data, data) {
						t.Errorf("%s's %s differs from the repository's", filepath.Base(path), name)
					}
				}
				for _, exe := range []string{tt.binary, "kubectl_complete-paude"} {
					if e, ok := files[exe]; ok && e.mode.Perm()&0o111 != 0o111 {
						t.Errorf("%s's %s has mode %v, want it executable by everyone", filepath.Base(path), exe, e.mode)
					}
				}
				checkExecutable(t, files[tt.binary].data, tt.binary, p)
				if p == host {
					exe := filepath.Join(t.TempDir(), tt.binary)
					if err := os.WriteFile(exe, files[tt.binary].data, 0o755); err != nil {
						t.Fatal(err)
					}
					out, err := exec.Command(exe, "version").CombinedOutput()
					if want := wantVersionLine(t, tt.binary); err != nil || string(out) != want {
						t.Errorf("%s version: %v, printed %q, want %q (make build's stamp)", tt.binary, err, out, want)
					}
				}
			})
		}
	}
}
