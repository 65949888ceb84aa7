package podman

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
)

// mount is a bind mount (Source is a host path) or a named volume.
type mount struct {
	Source   string
	Target   string
	ReadOnly bool
	// Volume marks Source as a named volume; it is chowned to the
	// container's user (:U) so the non-root agent can write it.
	Volume bool
}

func (m mount) flag() string {
	v := m.Source + ":" + m.Target
	switch {
	case m.Volume:
		v += ":U"
	case m.ReadOnly:
		v += ":ro"
	}
	return v
}

// venvDirs returns the workspace-relative directories to shadow: with
// "auto", .venv and venv; with a list, the listed ones. Only directories
// that exist are shadowed: a mount over a missing one would create it in
// the user's tree.
func venvDirs(v config.Venv, workspace string) ([]string, error) {
	var candidates []string
	switch v.Mode {
	case config.VenvNone:
		return nil, nil
	case config.VenvList:
		candidates = v.Dirs
	default:
		candidates = []string{".venv", "venv"}
	}
	var dirs []string
	for _, d := range candidates {
		clean := filepath.Clean(d)
		if !filepath.IsLocal(clean) {
			return nil, fmt.Errorf("venv directory %q leaves the workspace: list directories inside it", d)
		}
		fi, err := os.Lstat(filepath.Join(workspace, clean))
		if err != nil || !fi.IsDir() {
			continue
		}
		dirs = append(dirs, filepath.ToSlash(clean))
	}
	return dirs, nil
}

// workspaceMounts are the workspace bind mount, the state volume and the
// venv volumes over it.
func workspaceMounts(workspace string, venvs []string) []mount {
	ms := []mount{
		{Source: workspace, Target: workspace},
		{Source: stateVolume(workspace), Target: image.StateDir, Volume: true},
	}
	for _, d := range venvs {
		ms = append(ms, mount{Source: venvVolume(workspace, d), Target: path.Join(workspace, d), Volume: true})
	}
	return ms
}
