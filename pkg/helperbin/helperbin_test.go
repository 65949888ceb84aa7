package helperbin

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// The ELF files in testdata are headers only (an ELF64 header and its
// program headers, no code): enough for what check reads. static-* have
// one PT_LOAD, dynamic-* also a PT_INTERP naming the C library's loader.

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFor(t *testing.T) {
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	embedded := fstest.MapFS{
		"bin/linux-amd64/paude.gz": {Data: gzipped(t, readTestdata(t, "static-amd64.elf"))},
		"bin/linux-arm64/paude.gz": {Data: gzipped(t, readTestdata(t, "static-amd64.elf"))}, // wrong machine
	}
	cases := []struct {
		name       string
		src        Source
		arch       string
		wantSource string
		wantErr    string
	}{
		{name: "linux host of the same architecture: the running binary",
			src:  Source{GOOS: "linux", GOARCH: "amd64", Executable: func() (string, error) { return abs("static-amd64.elf"), nil }, Embedded: embedded},
			arch: "amd64", wantSource: "the running paude (" + abs("static-amd64.elf") + ")"},
		{name: "a dynamically linked running binary is refused",
			src:  Source{GOOS: "linux", GOARCH: "amd64", Executable: func() (string, error) { return abs("dynamic-amd64.elf"), nil }},
			arch: "amd64", wantErr: "linked dynamically (built with cgo), so it may not run in the session's image: build paude with CGO_ENABLED=0"},
		{name: "a running binary that is no executable is refused",
			src:  Source{GOOS: "linux", GOARCH: "amd64", Executable: func() (string, error) { return abs("not-elf.sh"), nil }},
			arch: "amd64", wantErr: "is not a Linux executable"},
		{name: "the running binary cannot be found",
			src:  Source{GOOS: "linux", GOARCH: "amd64", Executable: func() (string, error) { return "", errors.New("no /proc") }},
			arch: "amd64", wantErr: "failed to find the running paude to put in the session's image: no /proc"},
		{name: "macOS: the embedded build",
			src:  Source{GOOS: "darwin", GOARCH: "arm64", Executable: func() (string, error) { t.Fatal("must not read the running binary"); return "", nil }, Embedded: embedded},
			arch: "amd64", wantSource: "built into this paude"},
		{name: "linux host of another architecture: the embedded build",
			src:  Source{GOOS: "linux", GOARCH: "arm64", Embedded: embedded},
			arch: "amd64", wantSource: "built into this paude"},
		{name: "an embedded build for the wrong machine is refused",
			src:  Source{GOOS: "darwin", GOARCH: "arm64", Embedded: embedded},
			arch: "arm64", wantErr: "built into this paude is built for EM_X86_64, not linux/arm64"},
		{name: "no embedded build: the platform and what to do",
			src:  Source{GOOS: "darwin", GOARCH: "arm64"},
			arch: "amd64", wantErr: "this paude (darwin/arm64) has no linux/amd64 build of itself to put in the session's image as its sync helper: use a release build of paude, which carries one, or build paude from source with `make helpers build`"},
		{name: "embedded builds without this architecture",
			src:  Source{GOOS: "darwin", GOARCH: "arm64", Embedded: embedded},
			arch: "s390x", wantErr: "has no linux/s390x build of itself"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.src.For(c.arch)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Source != c.wantSource || b.Arch != c.arch || len(b.Content) == 0 {
				t.Fatalf("got %+v source %q, want source %q arch %s", b.Arch, b.Source, c.wantSource, c.arch)
			}
		})
	}
}

func TestArmStaticIsAccepted(t *testing.T) {
	b := &Binary{Arch: "arm64", Content: readTestdata(t, "static-arm64.elf"), Source: "test"}
	if err := b.check(); err != nil {
		t.Fatal(err)
	}
}

// gzipped is b compressed, as `make helpers` stores the helpers.
func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	if _, err := z.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Describe names where each architecture's helper comes from, as
// `version` prints it.
func TestDescribe(t *testing.T) {
	arm := fstest.MapFS{"bin/linux-arm64/paude.gz": {Data: []byte("x")}}
	tests := []struct {
		name string
		s    Source
		want string
	}{
		{"linux/amd64 without helpers", Source{GOOS: "linux", GOARCH: "amd64"}, "linux/amd64 (this binary), linux/arm64 (missing)"},
		{"linux/amd64 release", Source{GOOS: "linux", GOARCH: "amd64", Embedded: arm}, "linux/amd64 (this binary), linux/arm64 (built in)"},
		{"darwin without helpers", Source{GOOS: "darwin", GOARCH: "arm64"}, "linux/amd64 (missing), linux/arm64 (missing)"},
		{"darwin with one", Source{GOOS: "darwin", GOARCH: "arm64", Embedded: arm}, "linux/amd64 (missing), linux/arm64 (built in)"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.s.Describe(), ", "); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
