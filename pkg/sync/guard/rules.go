// Package guard is what stands between the session and the user's
// workspace. The pod is hostile: the agent holds a shell there and may
// replace paude's sync helper with anything, so every record that comes
// back is checked here before it touches a file (Policy.CheckEntry), and
// every write goes through *at system calls that never follow a symlink
// (Workspace, on tree.Dir). The rules and their names (Rule) are listed in
// package sync's documentation.
package guard

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// Rule names one validation rule, as it appears in reports.
type Rule string

// Rules.
const (
	RuleAbsolute        Rule = "absolute-path"
	RuleDotDot          Rule = "dot-dot"
	RuleBadName         Rule = "bad-name"
	RuleGitDir          Rule = "git-dir"
	RuleExcluded        Rule = "excluded"
	RuleKind            Rule = "kind"
	RuleSpecialBits     Rule = "special-bits"
	RuleFileSize        Rule = "file-size"
	RuleBatchBytes      Rule = "batch-bytes"
	RuleBatchEntries    Rule = "batch-entries"
	RuleRate            Rule = "rate"
	RuleSymlinkAncestor Rule = "symlink-ancestor"
	RuleSymlinkEscape   Rule = "symlink-escape"
	RuleCaseCollision   Rule = "case-collision"
	RuleProtocol        Rule = "protocol"
	RuleUnrequested     Rule = "unrequested"
)

// Refusal is a record from the session that was not applied, and why.
type Refusal struct {
	Rule Rule
	// Path is as the session sent it; print it quoted (%q), never raw: it
	// may hold terminal escape sequences.
	Path   string
	Detail string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("refused %q from the session (%s): %s", r.Path, r.Rule, r.Detail)
}

func refuse(rule Rule, path, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, Path: path, Detail: fmt.Sprintf(format, args...)}
}

const (
	maxPath = 4096
	maxName = 255
)

// CheckPath checks the syntax of a relative path from the session.
func CheckPath(p string) *Refusal {
	switch {
	case p == "":
		return refuse(RuleBadName, p, "empty path")
	case len(p) > maxPath:
		return refuse(RuleBadName, p[:64]+"…", "path longer than %d bytes", maxPath)
	case strings.IndexByte(p, 0) >= 0:
		return refuse(RuleBadName, p, "NUL byte in the name")
	case strings.HasPrefix(p, "/"):
		return refuse(RuleAbsolute, p, "absolute path")
	}
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "..":
			return refuse(RuleDotDot, p, `".." component`)
		case c == "." || c == "":
			return refuse(RuleBadName, p, "empty or \".\" component")
		case len(c) > maxName:
			return refuse(RuleBadName, p, "component longer than %d bytes", maxName)
		case tree.IsGitName(c):
			return refuse(RuleGitDir, p, "path inside a .git directory (git changes come back as a fetch, never as files)")
		}
	}
	return nil
}

// Policy is what a Workspace enforces beyond path syntax.
type Policy struct {
	// Excludes are the paths that are not synced.
	Excludes *tree.Excludes
	// Limits bound sizes and rates.
	Limits Limits
	// CaseInsensitive refuses names that collide by case or Unicode
	// normalisation (set it where the local file system folds them).
	CaseInsensitive bool
	// AllowSymlinkEscape lets symlinks point anywhere. Only the helper in
	// the session sets it: there it applies the user's own symlinks, sent
	// as symlinks rather than followed.
	AllowSymlinkEscape bool
	// WriteInPlace writes a new file under its own name instead of a
	// temporary one renamed into place. Only the helper in the session
	// sets it: it saves a rename per file on the initial push, and nobody
	// there needs to never see a half-written file.
	WriteInPlace bool
	// AllowRepositoryShape lets a directory get HEAD with objects and refs
	// (or commondir), which makes it a git directory to git's discovery.
	// Only the helper in the session sets it: there it applies the user's
	// own files. From the session, such a directory would be a repository
	// whose config (core.pager, core.fsmonitor, aliases) the user's next
	// git command below it reads and runs.
	AllowRepositoryShape bool
}

// CheckEntry checks one record from the session before anything is
// written: path syntax, excludes, kind, mode bits and size.
func (p *Policy) CheckEntry(e *wire.Entry) *Refusal {
	if r := CheckPath(e.Path); r != nil {
		return r
	}
	if r := checkControls(e.Path, e.Path, "name"); r != nil {
		return r
	}
	if e.Op == wire.OpRename {
		if r := CheckPath(e.Target); r != nil {
			return r
		}
	}
	if r := checkControls(e.Path, e.Target, "target"); r != nil {
		return r
	}
	if e.Op != wire.OpPut && e.Op != wire.OpDelete && e.Op != wire.OpRename {
		return refuse(RuleProtocol, e.Path, "unknown operation %d", e.Op)
	}
	if e.Op == wire.OpDelete {
		// A directory-only pattern is checked against the real kind by
		// Workspace.Remove, which keeps excluded objects.
		if p.Excludes.Match(e.Path, false) {
			return refuse(RuleExcluded, e.Path, "excluded from sync")
		}
		return nil
	}
	switch e.Kind {
	case wire.KindFile, wire.KindDir, wire.KindSymlink:
	default:
		return refuse(RuleKind, e.Path, "%s: only files, directories and symlinks are synced", e.Kind)
	}
	if p.Excludes.Match(e.Path, e.Kind == wire.KindDir) {
		return refuse(RuleExcluded, e.Path, "excluded from sync")
	}
	if e.Op == wire.OpPut && e.Kind != wire.KindSymlink && e.Target != "" {
		return refuse(RuleProtocol, e.Path, "a %s with a symlink target", e.Kind)
	}
	if e.Mode&(wire.ModeSetuid|wire.ModeSetgid|wire.ModeSticky) != 0 {
		return refuse(RuleSpecialBits, e.Path, "mode %04o has a setuid, setgid or sticky bit", e.Mode&0o7777)
	}
	if e.Kind == wire.KindFile && e.Size > p.Limits.MaxFileSize {
		return refuse(RuleFileSize, e.Path, "%d bytes is over the %d-byte limit per file", e.Size, p.Limits.MaxFileSize)
	}
	if e.Kind == wire.KindSymlink {
		return p.checkTargetSyntax(e)
	}
	return nil
}

func (p *Policy) checkTargetSyntax(e *wire.Entry) *Refusal {
	t := e.Target
	switch {
	case t == "":
		return refuse(RuleSymlinkEscape, e.Path, "empty symlink target")
	case strings.IndexByte(t, 0) >= 0:
		return refuse(RuleBadName, e.Path, "NUL byte in the symlink target")
	case len(t) > maxPath:
		return refuse(RuleBadName, e.Path, "symlink target longer than %d bytes", maxPath)
	case p.AllowSymlinkEscape:
		return nil
	case strings.HasPrefix(t, "/"):
		return refuse(RuleSymlinkEscape, e.Path, "symlink to the absolute path %q", t)
	}
	return nil
}

// Printable quotes a string from the session for a report: every
// control or invalid byte escaped, so it cannot drive the terminal.
func Printable(s string) string {
	if len(s) > 512 {
		s = s[:512]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
		return fmt.Sprintf("%q…", s)
	}
	return fmt.Sprintf("%q", s)
}

// checkControls refuses a name or target from the session that holds a
// control character (C0, DEL, C1) or a bidirectional formatting one: paude
// quotes what it prints, but ls, find, grep and make print file names as
// they are, so such a name would carry escape sequences to the user's
// terminal, or show a name other than the real one.
func checkControls(path, s, what string) *Refusal {
	for _, r := range s {
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f,
			r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return refuse(RuleBadName, path, "the %s holds the control character %U", what, r)
		}
	}
	return nil
}
