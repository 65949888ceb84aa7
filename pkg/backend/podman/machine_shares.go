package podman

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/hostpath"
)

// hostPathUse is a directory of this computer that a start bind-mounts
// (itself or files in it) into a container.
type hostPathUse struct {
	// What names it for the user ("workspace").
	What string
	// Path is its real name (hostpath.Real).
	Path string
	// Write says containers write it.
	Write bool
	// Move is how to put it where the machine shares it ("move the
	// project below one of them").
	Move string
}

// hostPathUses are the directories of this computer a start mounts from:
// the workspace (the read-only paths below it included), and paude's
// state directory when a squid.conf or a linked worktree's .git file is
// mounted from it. Home files and build contexts are copied, not
// mounted, and need no share.
func (b *Backend) hostPathUses(spec backend.SessionSpec, workspace string) []hostPathUse {
	uses := []hostPathUse{{What: "workspace", Path: workspace, Write: true,
		Move: "move the project below one of those directories"}}
	dotGit, err := os.Lstat(filepath.Join(workspace, ".git"))
	linkedWorktree := err == nil && dotGit.Mode().IsRegular()
	if !spec.AllowNetwork || linkedWorktree {
		uses = append(uses, hostPathUse{What: "paude's state directory", Path: hostpath.Real(b.opts.StateDir),
			Move: "set XDG_STATE_HOME to a directory below one of those"})
	}
	return uses
}

// check refuses the first use the machine does not share at the same
// path, writable when containers write it.
func (m *podmanMachine) check(uses []hostPathUse) error {
	for _, u := range uses {
		if err := m.checkOne(u); err != nil {
			return err
		}
	}
	return nil
}

func (m *podmanMachine) checkOne(u hostPathUse) error {
	var elsewhere string
	readOnly := false
	for _, mt := range m.Mounts {
		rel, ok := below(hostpath.Real(mt.Source), u.Path)
		if !ok {
			continue
		}
		// podman passes the source of -v to the machine as it is, so the
		// machine must have the directory at the same path.
		inMachine := path.Join(mt.Target, filepath.ToSlash(rel))
		switch {
		case inMachine != u.Path:
			elsewhere = inMachine
		case mt.ReadOnly && u.Write:
			readOnly = true
		default:
			return nil
		}
	}
	var problem string
	switch {
	case readOnly:
		problem = fmt.Sprintf("is shared read-only with podman machine %q (it shares %s), and the agent writes it", m.Name, m.shared())
	case elsewhere != "":
		problem = fmt.Sprintf("is shared with podman machine %q only as %s (it shares %s), and podman mounts it by its path on this computer", m.Name, elsewhere, m.shared())
	default:
		problem = fmt.Sprintf("is not shared with podman machine %q (it shares %s), so its containers cannot mount it", m.Name, m.shared())
	}
	return fmt.Errorf("%s %s %s: %s, or create the machine again with it shared, as podman adds shares only then: 'podman machine rm %s' (this deletes its containers and images), then 'podman machine init %s%s' (see docs/PODMAN.md, macOS)",
		u.What, u.Path, problem, u.Move, m.Name, m.initVolumes(u.Path), m.nameArg())
}

// shared lists the machine's writable shares for a message.
func (m *podmanMachine) shared() string {
	var dirs []string
	for _, mt := range m.Mounts {
		d := mt.Source
		if mt.Target != mt.Source {
			d += " (as " + mt.Target + ")"
		}
		if mt.ReadOnly {
			d += " (read-only)"
		}
		dirs = append(dirs, d)
	}
	if len(dirs) == 0 {
		return "no directory"
	}
	return strings.Join(dirs, ", ")
}

// initVolumes are the --volume flags of a machine that shares what this
// one does and dir: podman machine init's -v replaces the default
// shares, so they are repeated.
func (m *podmanMachine) initVolumes(dir string) string {
	var flags []string
	for _, mt := range m.Mounts {
		if mt.Source == dir || mt.Target == dir {
			continue
		}
		v := "-v " + mt.Source + ":" + mt.Target
		if mt.ReadOnly {
			v += ":ro"
		}
		flags = append(flags, v)
	}
	return strings.Join(append(flags, "-v "+dir+":"+dir), " ")
}

// nameArg is the machine's name as the last argument of podman machine
// init: nothing for the default machine.
func (m *podmanMachine) nameArg() string {
	if m.Name == defaultMachine {
		return ""
	}
	return " " + m.Name
}

// defaultMachine is the name podman machine init gives a machine.
const defaultMachine = "podman-machine-default"

// below returns p relative to root when p is root or inside it.
func below(root, p string) (string, bool) {
	rel, err := filepath.Rel(root, p)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	return rel, true
}
