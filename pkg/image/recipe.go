package image

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paude-dev/paude/containers"
)

// Image names. A tag is the name, ":" and the first 12 hex digits of the
// SHA-256 of every input of the build, so an unchanged project reuses its
// image and any change builds a new one.
const (
	// WorkspaceName is the repository of agent images.
	WorkspaceName = "paude-workspace"
	// UserBaseName is the repository of images built from a project's own
	// Dockerfile, which the agent image is then built on.
	UserBaseName = "paude-userbase"
	// ProxyName is the repository of the squid proxy image.
	ProxyName = "paude-proxy"
)

// ContainerfileName is the name WriteContext gives the Containerfile.
const ContainerfileName = "Containerfile"

// Recipe is everything needed to build one image: the Containerfile, the
// other files of its build context, and the content tag to build it as.
// Backends build it with `podman build -f Containerfile -t Tag <dir>` after
// WriteContext(dir), first building UserBuild when it is set.
type Recipe struct {
	// Name is the image repository ("paude-workspace", "paude-proxy").
	Name string
	// Tag is Name + ":" + 12 hex digits of the build inputs' hash.
	Tag string
	// Containerfile is the generated Containerfile.
	Containerfile []byte
	// Files are the other build-context files, by slash-separated relative
	// name. A file whose content starts with "#!" (a script) or with the
	// ELF magic number (a program) is written executable.
	Files map[string][]byte
	// UserBuild, set when the project has its own Dockerfile, must be built
	// first: Containerfile starts FROM its Tag.
	UserBuild *UserBuild
}

// UserBuild is a project's own Dockerfile build, run before the agent image.
// Backends build it with `podman build -f Dockerfile --build-arg K=V ... -t
// Tag Context`.
type UserBuild struct {
	// Dockerfile is the absolute path of the Dockerfile.
	Dockerfile string
	// Context is the absolute path of the build context directory.
	Context string
	// Args are the build arguments.
	Args map[string]string
	// Tag is "paude-userbase:" + 12 hex digits of the hash of the
	// Dockerfile, every file of the context and the arguments.
	Tag string
}

// assets is where the image files come from; tests replace it to check
// that a change in any of them changes the tag.
var assets fs.FS = containers.FS()

// readAsset reads one embedded image file.
func readAsset(name string) ([]byte, error) {
	b, err := fs.ReadFile(assets, name)
	if err != nil {
		return nil, fmt.Errorf("failed to read image file %s: %w", name, err)
	}
	return b, nil
}

// WriteContext writes the Containerfile and every file of p.Files into dir,
// creating dir and subdirectories as needed. Files are written 0644, or
// 0755 when they are scripts or programs (see Files). A file name that is absolute or leaves
// dir is an error, and nothing is written.
func (p *Recipe) WriteContext(dir string) error {
	names := make([]string, 0, len(p.Files))
	for name := range p.Files {
		if err := checkContextName(name); err != nil {
			return err
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create build context %s: %w", dir, err)
	}
	if err := writeContextFile(filepath.Join(dir, ContainerfileName), p.Containerfile); err != nil {
		return err
	}
	for _, name := range names {
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("failed to create build context directory for %s: %w", name, err)
		}
		if err := writeContextFile(target, p.Files[name]); err != nil {
			return err
		}
	}
	return nil
}

// checkContextName refuses a build-context file name that could land
// outside the context directory or collide with the Containerfile.
func checkContextName(name string) error {
	clean := path.Clean(name)
	switch {
	case name == "" || clean != name || path.IsAbs(name) || strings.Contains(name, `\`):
		return fmt.Errorf("build context file name %q is not a clean relative path", name)
	case clean == ".." || strings.HasPrefix(clean, "../"):
		return fmt.Errorf("build context file name %q leaves the context", name)
	case clean == ContainerfileName:
		return fmt.Errorf("build context file name %q collides with the Containerfile", name)
	}
	return nil
}

func writeContextFile(name string, content []byte) error {
	mode := os.FileMode(0o644)
	if bytes.HasPrefix(content, []byte("#!")) || bytes.HasPrefix(content, []byte("\x7fELF")) {
		mode = 0o755
	}
	if err := os.WriteFile(name, content, mode); err != nil {
		return fmt.Errorf("failed to write build context file %s: %w", name, err)
	}
	// WriteFile leaves the mode of an existing file, and the umask may
	// have narrowed a new one.
	if err := os.Chmod(name, mode); err != nil {
		return fmt.Errorf("failed to set the mode of build context file %s: %w", name, err)
	}
	return nil
}
