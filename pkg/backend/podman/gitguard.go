package podman

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// gitGuardMounts are read-only bind mounts over the parts of the
// workspace's git directory that make the host's git run code: the
// repository's config (core.fsmonitor, core.hooksPath, filter and diff
// drivers, aliases) and its hooks, and the same for every submodule under
// .git/modules. The workspace itself is mounted writable, so without these
// an agent could plant a command that the user's next `git status` or
// `git commit` on the host runs.
//
// A missing hooks directory is created (empty, as `git init` makes it)
// when create is set: a mount needs a target, and an absent one would let
// the agent create it. Symlinks are never followed or mounted: a symlinked
// .git, config or hooks is refused, since its target is outside what paude
// can reason about.
func gitGuardMounts(workspace string, create bool) ([]mount, error) {
	gitDir := filepath.Join(workspace, ".git")
	fi, err := os.Lstat(gitDir)
	switch {
	case os.IsNotExist(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("failed to read %s: %w", gitDir, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s is a symlink: paude cannot protect a git directory outside the workspace; replace the link with the repository", gitDir)
	case !fi.IsDir():
		// A worktree's or submodule's ".git" file points at a git
		// directory outside the workspace, which is not mounted at all.
		return nil, nil
	}
	repos := []string{gitDir}
	modules := filepath.Join(gitDir, "modules")
	err = filepath.WalkDir(modules, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == modules {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() && p != modules {
			if _, err := os.Lstat(filepath.Join(p, "config")); err == nil {
				repos = append(repos, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", modules, err)
	}
	var ms []mount
	for _, repo := range repos {
		for _, name := range []string{"config", "hooks"} {
			p := filepath.Join(repo, name)
			fi, err := os.Lstat(p)
			if os.IsNotExist(err) && name == "hooks" && create {
				if err := os.Mkdir(p, 0o755); err != nil {
					return nil, fmt.Errorf("failed to create %s: %w", p, err)
				}
				fi, err = os.Lstat(p)
			}
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("failed to read %s: %w", p, err)
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				return nil, fmt.Errorf("%s is a symlink: paude cannot keep the agent from changing what it points to; replace the link with the file", p)
			}
			ms = append(ms, mount{Source: p, Target: p, ReadOnly: true})
		}
	}
	return ms, nil
}
