package guard

import (
	"strings"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// maxHops bounds symlink expansion, as the kernel's ELOOP limit does.
const maxHops = 40

// checkTarget resolves a symlink's target the way the kernel would, from
// the link's directory, following the symlinks that exist in the
// workspace now, and refuses it if any step leaves the workspace or
// enters a .git directory. Components that do not exist yet are taken
// literally: whatever is created there later is checked when it comes.
func (w *Workspace) checkTarget(linkRel, target string) *Refusal {
	parent, _ := tree.SplitParent(linkRel)
	var stack []string
	if parent != "" {
		stack = strings.Split(parent, "/")
	}
	pending := strings.Split(target, "/")
	if strings.HasPrefix(target, "/") {
		return refuse(RuleSymlinkEscape, linkRel, "symlink to the absolute path %s", Printable(target))
	}
	depth := len(stack)
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return refuse(RuleSymlinkEscape, linkRel, "symlink target %s leaves the workspace", Printable(target))
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if tree.IsGitName(c) {
			return refuse(RuleGitDir, linkRel, "symlink target %s points into a .git directory", Printable(target))
		}
		stack = append(stack, c)
		e, ok, err := w.dir.LstatPath(strings.Join(stack, "/"))
		if err != nil || !ok || e.Kind != wire.KindSymlink {
			continue
		}
		hops++
		if hops > maxHops {
			return refuse(RuleSymlinkEscape, linkRel, "symlink target %s loops", Printable(target))
		}
		if strings.HasPrefix(e.Target, "/") {
			return refuse(RuleSymlinkEscape, linkRel, "symlink target %s goes through %s, which points outside the workspace", Printable(target), Printable(strings.Join(stack, "/")))
		}
		stack = stack[:len(stack)-1]
		pending = append(strings.Split(e.Target, "/"), pending...)
	}
	return checkTargetClimb(linkRel, target, depth)
}

// checkTargetClimb refuses a target whose place depends on what its names
// are later: it may climb (..) only at its start, and no higher than the
// link's directory is deep. "../../lib/x" stays where it points whatever
// lib becomes (lib, if a symlink, is itself held inside); "s/../../x"
// lands elsewhere once s is another directory or link. The resolution
// that follows checks the target against the workspace as it is now.
func checkTargetClimb(linkRel, target string, depth int) *Refusal {
	named := false
	for _, c := range strings.Split(target, "/") {
		switch {
		case c == "" || c == ".":
		case c == ".." && named:
			return refuse(RuleSymlinkEscape, linkRel, "symlink target %s climbs (..) after a name: where it leads would change with that name", Printable(target))
		case c == "..":
			if depth == 0 {
				return refuse(RuleSymlinkEscape, linkRel, "symlink target %s leaves the workspace", Printable(target))
			}
			depth--
		default:
			named = true
		}
	}
	return nil
}
