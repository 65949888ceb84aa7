// Package helperbin provides the Linux paude binary that a cluster
// session's image carries as its workspace sync helper (`paude
// __sync-agent`, see package sync). The image builder asks For the
// architecture its nodes run; the helper comes from paude itself, never
// from a project's configuration:
//
//   - on a Linux machine of that architecture, the running executable;
//   - otherwise a Linux build embedded in this binary. Release builds embed
//     one per supported architecture: `make helpers` builds them,
//     gzip-compressed, into pkg/helperbin/bin/linux-<arch>/paude.gz, and
//     building with the paude_helpers tag (`go build -tags paude_helpers`)
//     embeds whatever is there. A build without them says so, naming the
//     platform and what to do.
package helperbin

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
)

// Binary is a Linux paude executable for one architecture.
type Binary struct {
	// Arch is the architecture it runs on, in Go's and Kubernetes' words
	// ("amd64", "arm64").
	Arch string
	// Content is the executable file.
	Content []byte
	// Source says where it came from, for messages: "the running paude
	// (/usr/local/bin/kubectl-paude)" or "built into this paude".
	Source string
}

// embedded holds the Linux builds embedded by the paude_helpers build tag,
// as "bin/linux-<arch>/paude.gz"; nil without the tag.
var embedded fs.FS

// Supported are the architectures release builds embed a helper for.
var Supported = []string{"amd64", "arm64"}

// Source finds helpers: the running executable where it fits, else the
// embedded builds. Tests set its fields; For uses the real ones.
type Source struct {
	// GOOS and GOARCH are the running binary's platform.
	GOOS, GOARCH string
	// Executable returns the running binary's path.
	Executable func() (string, error)
	// Embedded holds "bin/linux-<arch>/paude.gz" files; nil means none.
	Embedded fs.FS
}

// Running is the Source of this process: its own platform and path, and
// the builds embedded in it.
func Running() Source {
	return Source{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Executable: os.Executable, Embedded: embedded}
}

// For returns the helper for linux/arch from the running binary (see
// Source.For).
func For(arch string) (*Binary, error) {
	return Running().For(arch)
}

// For returns the helper for linux/arch: the running executable when this
// is a Linux binary of that architecture, else the embedded build. An
// executable that could not run in an image (linked dynamically, for
// another machine) is refused with what to do.
func (s Source) For(arch string) (*Binary, error) {
	if s.GOOS == "linux" && s.GOARCH == arch {
		path, err := s.Executable()
		if err != nil {
			return nil, fmt.Errorf("failed to find the running paude to put in the session's image: %w", err)
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("failed to read the running paude (%s) to put in the session's image: %w", path, err)
		}
		b := &Binary{Arch: arch, Content: content, Source: "the running paude (" + path + ")"}
		if err := b.check(); err != nil {
			return nil, err
		}
		return b, nil
	}
	if s.Embedded != nil {
		content, err := readGzip(s.Embedded, "bin/linux-"+arch+"/paude.gz")
		if err == nil {
			b := &Binary{Arch: arch, Content: content, Source: "built into this paude"}
			if err := b.check(); err != nil {
				return nil, err
			}
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("failed to read the linux/%s helper built into this paude: %w", arch, err)
		}
	}
	return nil, fmt.Errorf("this paude (%s/%s) has no linux/%s build of itself to put in the session's image as its sync helper: "+
		"use a release build of paude, which carries one, or build paude from source with `make helpers build`", s.GOOS, s.GOARCH, arch)
}

// readGzip reads a gzip-compressed file of fsys.
func readGzip(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
}

// machines maps an architecture to its ELF machine.
var machines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
}

// check refuses an executable that would not run in a Linux image of its
// architecture: not ELF, for another machine, or linked dynamically (a
// build with cgo needs the C library of the machine it was built on).
func (b *Binary) check() error {
	f, err := elf.NewFile(bytes.NewReader(b.Content))
	if err != nil {
		return fmt.Errorf("%s is not a Linux executable (%w): build paude for linux/%s", b.Source, err, b.Arch)
	}
	if want, ok := machines[b.Arch]; ok && f.Machine != want {
		return fmt.Errorf("%s is built for %s, not linux/%s: build paude for linux/%s", b.Source, f.Machine, b.Arch, b.Arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is linked dynamically (built with cgo), so it may not run in the session's image: build paude with CGO_ENABLED=0 (`make build` does)", b.Source)
		}
	}
	return nil
}

// Describe says, for each supported architecture, where a cluster
// session's helper would come from ("linux/amd64 (this binary)", "linux/arm64
// (built in)") or that there is none, without reading the binaries.
func (s Source) Describe() []string {
	var out []string
	for _, arch := range Supported {
		where := "missing"
		switch {
		case s.GOOS == "linux" && s.GOARCH == arch:
			where = "this binary"
		case s.Embedded != nil:
			if _, err := fs.Stat(s.Embedded, "bin/linux-"+arch+"/paude.gz"); err == nil {
				where = "built in"
			}
		}
		out = append(out, "linux/"+arch+" ("+where+")")
	}
	return out
}
