package config

import (
	"errors"
	"fmt"
	"io/fs"
)

// autoVenvDirs are the directories Venv mode "auto" looks at.
var autoVenvDirs = []string{".venv", "venv"}

// VenvDirs returns the workspace-relative directories to shadow with an
// empty volume, so that a host virtualenv (built for the host's OS and
// Python) never appears inside the container. workspace is the project
// root, e.g. os.DirFS(c.Workspace).
//
// Mode "none" gives none, "list" gives Dirs as configured, whether they
// exist or not. Mode "auto" gives each of ".venv" and "venv" that is a
// real directory (not a symbolic link) holding a pyvenv.cfg file, the
// marker every virtualenv tool writes; a folder that merely has the name
// is left visible.
func (c *Config) VenvDirs(workspace fs.FS) ([]string, error) {
	switch c.Venv.Mode {
	case VenvNone:
		return nil, nil
	case VenvList:
		return append([]string(nil), c.Venv.Dirs...), nil
	case VenvAuto:
	default:
		return nil, fmt.Errorf("venv mode %q is not valid: use %q, %q or %q", c.Venv.Mode, VenvAuto, VenvNone, VenvList)
	}
	var dirs []string
	for _, d := range autoVenvDirs {
		info, err := fs.Lstat(workspace, d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to inspect %s: %w", d, err)
		}
		if !info.IsDir() {
			continue
		}
		marker, err := fs.Lstat(workspace, d+"/pyvenv.cfg")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to inspect %s: %w", d, err)
		}
		if marker.Mode().IsRegular() {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}
