package podman

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/paude-dev/paude/pkg/config"
)

// copyIn is a host path copied into the created container before it
// starts. The agent gets its own copy: it may rewrite it, and the host's
// file stays as it was.
type copyIn struct {
	Source string
	Target string
}

// homeFiles is what the agent gets from the user's home directory.
type homeFiles struct {
	// Mounts are read-only bind mounts (gcloud credentials, git identity).
	Mounts []mount
	// Copies are copied in (Claude Code's ~/.claude.json).
	Copies []copyIn
	// ClaudeDir is ~/.claude when it is a directory: copied in as a tar
	// stream without other projects' history (copyClaudeDir).
	ClaudeDir string
}

// homeFilesFor looks at the user's home and returns the mounts and copies
// of the files that exist: ~/.config/gcloud and ~/.gitconfig read-only,
// ~/.claude (without other projects' history) and ~/.claude.json copied.
func homeFilesFor(home string) (homeFiles, error) {
	var hf homeFiles
	if home == "" {
		return hf, nil
	}
	type entry struct {
		rel   string
		dir   bool
		mount bool
	}
	for _, e := range []entry{
		{rel: ".config/gcloud", dir: true, mount: true},
		{rel: ".gitconfig", dir: false, mount: true},
		{rel: ".claude", dir: true},
		{rel: ".claude.json", dir: false},
	} {
		src := filepath.Join(home, e.rel)
		fi, err := os.Stat(src)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return hf, fmt.Errorf("failed to read %s: %w", src, err)
		}
		if fi.IsDir() != e.dir {
			// A ~/.gitconfig directory or a ~/.claude file is not what
			// the agent expects; leave it out rather than fail the start.
			continue
		}
		dst := path.Join(containerHome, e.rel)
		switch {
		case e.mount:
			hf.Mounts = append(hf.Mounts, mount{Source: src, Target: dst, ReadOnly: true})
		case e.dir:
			hf.ClaudeDir = src
		default:
			hf.Copies = append(hf.Copies, copyIn{Source: src, Target: dst})
		}
	}
	return hf, nil
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
		{Source: stateVolume(workspace), Target: stateDir, Volume: true},
	}
	for _, d := range venvs {
		ms = append(ms, mount{Source: venvVolume(workspace, d), Target: path.Join(workspace, d), Volume: true})
	}
	return ms
}
