package backend

import (
	"fmt"
	"path/filepath"

	"github.com/paude-dev/paude/pkg/hostpath"
)

// CheckWorkspacePath refuses a workspace that is the root directory, the
// user's home or a directory above it: the agent gets the workspace
// read-write, and with it ~/.ssh, the shell's startup files and every
// other project. Both paths are compared by their real names
// (hostpath.Real: symlinks resolved, and on macOS the stored spelling, so
// "/users/ME" is still the home "/Users/me"). An empty home checks only
// "/".
func CheckWorkspacePath(workspace, home string) error {
	return checkWorkspacePath(workspace, home, hostpath.Real)
}

// checkWorkspacePath is CheckWorkspacePath with the path resolver given.
func checkWorkspacePath(workspace, home string, resolved func(string) string) error {
	ws := resolved(workspace)
	if ws == string(filepath.Separator) {
		return fmt.Errorf("refusing to start in %s: it is the root directory, and the agent would get every file under it: start the session from a project directory", workspace)
	}
	if home == "" {
		return nil
	}
	h := resolved(home)
	if h == ws {
		return fmt.Errorf("refusing to start in %s: it is your home directory, and the agent would get ~/.ssh, your shell's startup files and every project in it: start the session from a project directory", workspace)
	}
	if rel, err := filepath.Rel(ws, h); err == nil && filepath.IsLocal(rel) {
		return fmt.Errorf("refusing to start in %s: it contains your home directory %s, and the agent would get every file in it: start the session from a project directory", workspace, home)
	}
	return nil
}
