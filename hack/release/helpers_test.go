//go:build release

package release

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// platform is one os/arch pair a release serves.
type platform struct{ OS, Arch string }

func (p platform) String() string { return p.OS + "/" + p.Arch }

// platforms are the release's targets, as the issue asks for them; the
// tests hold them independently of .goreleaser.yaml.
var platforms = []platform{
	{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"},
}

// skipOrFail skips the test for a missing prerequisite, and fails it under
// PAUDE_REQUIRE_ALL=1 (CI), where every suite must run.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
		t.Fatalf("prerequisite missing and PAUDE_REQUIRE_ALL=1: %s", why)
	}
	t.Skip(why)
}

// requireEnv returns the variable name, or skips (fails in CI) when it is
// unset; test-release.sh sets them all.
func requireEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		skipOrFail(t, name+" is unset: run these tests with make test-release")
	}
	return v
}

// findArchive returns the one archive of binary for p in dist.
func findArchive(t *testing.T, dist, binary string, p platform) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dist, fmt.Sprintf("%s_*_%s_%s.tar.gz", binary, p.OS, p.Arch)))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) != 1 {
		t.Fatalf("want one %s archive for %s in %s, found %q", binary, p, dist, matches)
	}
	return matches[0]
}

// header is what checkExecutable reads from an executable's headers.
type header struct {
	kind, cpu string // the format's own names: "ET_EXEC", "EM_X86_64"; "Exec", "CpuArm64"
	symtab    bool   // a symbol table of the program's own (ELF only: Mach-O keeps one for dynamic imports)
	dwarf     bool   // DWARF debug information
}

// wantHeaders are the headers of a `make build`-style executable per platform.
var wantHeaders = map[platform]header{
	{"linux", "amd64"}:  {kind: "ET_EXEC", cpu: "EM_X86_64"},
	{"linux", "arm64"}:  {kind: "ET_EXEC", cpu: "EM_AARCH64"},
	{"darwin", "amd64"}: {kind: "Exec", cpu: "CpuAmd64"},
	{"darwin", "arm64"}: {kind: "Exec", cpu: "CpuArm64"},
}

// readHeader parses b as the executable format of goos: ELF or Mach-O.
func readHeader(b []byte, goos string) (header, error) {
	switch goos {
	case "linux":
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			return header{}, fmt.Errorf("not an ELF file: %w", err)
		}
		_, dwarfErr := f.DWARF()
		return header{kind: f.Type.String(), cpu: f.Machine.String(), symtab: f.Section(".symtab") != nil, dwarf: dwarfErr == nil}, nil
	case "darwin":
		f, err := macho.NewFile(bytes.NewReader(b))
		if err != nil {
			return header{}, fmt.Errorf("not a Mach-O file: %w", err)
		}
		_, dwarfErr := f.DWARF()
		return header{kind: f.Type.String(), cpu: f.Cpu.String(), dwarf: dwarfErr == nil}, nil
	}
	return header{}, fmt.Errorf("no executable format known for %s", goos)
}

// checkExecutable checks that b is an executable for p built the way
// `make build` builds: CGO off, -trimpath, -s -w (no symbol table, no
// DWARF). Go does not record -ldflags in a -trimpath build, so the version
// stamp is checked by running the host's binaries (see wantVersionLine).
func checkExecutable(t *testing.T, b []byte, binary string, p platform) {
	t.Helper()
	got, err := readHeader(b, p.OS)
	if err != nil {
		t.Fatalf("%s for %s: %v", binary, p, err)
	}
	if want := wantHeaders[p]; got != want {
		t.Errorf("%s for %s has headers %+v, want %+v (-s drops the symbol table, -w the DWARF)", binary, p, got, want)
	}
	info, err := buildinfo.Read(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s for %s has no Go build information: %v", binary, p, err)
	}
	if want := "github.com/paude-dev/paude/cmd/" + binary; info.Path != want {
		t.Errorf("%s for %s was built from %s, want %s", binary, p, info.Path, want)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// Every binary carries the Linux builds of paude that a cluster
	// session's image gets as its sync helper (package helperbin).
	for key, want := range map[string]string{"GOOS": p.OS, "GOARCH": p.Arch, "CGO_ENABLED": "0", "-trimpath": "true", "-tags": "paude_helpers"} {
		if settings[key] != want {
			t.Errorf("%s for %s was built with %s=%q, want %q", binary, p, key, settings[key], want)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if name := "bin/linux-" + arch + "/paude.gz"; !bytes.Contains(b, []byte(name)) {
			t.Errorf("%s for %s embeds no %s (the linux/%s sync helper)", binary, p, name, arch)
		}
	}
}

// wantVersionLine is what `<binary> version` prints on this machine for a
// binary stamped as `make build` stamps (PAUDE_WANT_VERSION and
// PAUDE_WANT_COMMIT are the Makefile's VERSION and COMMIT).
func wantVersionLine(t *testing.T, binary string) string {
	t.Helper()
	version := requireEnv(t, "PAUDE_WANT_VERSION")
	commit := requireEnv(t, "PAUDE_WANT_COMMIT")
	var helpers []string
	for _, arch := range []string{"amd64", "arm64"} {
		where := "built in"
		if arch == runtime.GOARCH {
			where = "this binary"
		}
		helpers = append(helpers, "linux/"+arch+" ("+where+")")
	}
	return fmt.Sprintf("%s %s (commit %s, %s, %s/%s)\nsync helpers for cluster images: %s\n",
		binary, version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH, strings.Join(helpers, ", "))
}

// TestReadHeaderControl builds a small program with and without -s -w for
// an ELF and a Mach-O platform: readHeader must tell the builds apart, or
// checkExecutable's flag checks could not fail.
func TestReadHeaderControl(t *testing.T) {
	tests := []struct {
		p                     platform
		ldflags               string
		wantSymtab, wantDWARF bool
	}{
		{platform{"linux", "amd64"}, "", true, true},
		{platform{"linux", "amd64"}, "-s -w", false, false},
		{platform{"darwin", "arm64"}, "", false, true},
		{platform{"darwin", "arm64"}, "-s -w", false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s ldflags=%q", tt.p, tt.ldflags), func(t *testing.T) {
			exe := filepath.Join(t.TempDir(), "hello")
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags="+tt.ldflags, "-o", exe, "./testdata/hello")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+tt.p.OS, "GOARCH="+tt.p.Arch)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			b, err := os.ReadFile(exe)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readHeader(b, tt.p.OS)
			if err != nil {
				t.Fatal(err)
			}
			want := wantHeaders[tt.p]
			want.symtab, want.dwarf = tt.wantSymtab, tt.wantDWARF
			if got != want {
				t.Errorf("readHeader = %+v, want %+v", got, want)
			}
		})
	}
}
