// Package tree is what both ends of workspace sync do with a directory
// tree: decide which paths are synced (gitignore-style excludes plus the
// names that never cross), describe a path as a wire.Entry, walk a tree,
// hash a file, and watch a tree for changes.
package tree

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// Excludes decides which workspace paths are not synced, in either
// direction. Patterns use .gitignore syntax relative to the workspace
// root; on top of them, names for which Protected is true are always
// excluded.
type Excludes struct {
	patterns []string
	m        gitignore.Matcher
}

// NewExcludes parses gitignore-style patterns. Blank lines and comments
// are ignored as in a .gitignore file.
func NewExcludes(patterns []string) (*Excludes, error) {
	var ps []gitignore.Pattern
	var kept []string
	for i, p := range patterns {
		if strings.ContainsRune(p, 0) || strings.ContainsAny(p, "\r\n") {
			return nil, fmt.Errorf("sync exclude pattern %d (%q) contains a control character: remove it", i+1, p)
		}
		trimmed := strings.TrimSpace(p)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		kept = append(kept, p)
		ps = append(ps, gitignore.ParsePattern(p, nil))
	}
	return &Excludes{patterns: kept, m: gitignore.NewMatcher(ps)}, nil
}

// Patterns returns the patterns in effect (without the always-excluded
// names), e.g. to hand to another sync tool.
func (x *Excludes) Patterns() []string { return append([]string(nil), x.patterns...) }

// Match reports whether the slash-separated relative path rel is excluded.
// A path is excluded when it or any ancestor directory is: as in git, a
// file cannot be re-included below an excluded directory.
func (x *Excludes) Match(rel string, isDir bool) bool {
	if rel == "" || rel == "." {
		return false
	}
	parts := strings.Split(rel, "/")
	for i, name := range parts {
		if Protected(name) {
			return true
		}
		if x == nil || x.m == nil {
			continue
		}
		last := i == len(parts)-1
		if x.m.Match(parts[:i+1], isDir || !last) {
			return true
		}
	}
	return false
}

// MatchName is Match for one more component below a directory already
// known not to be excluded; walkers use it to avoid re-checking ancestors.
func (x *Excludes) MatchName(parentParts []string, name string, isDir bool) bool {
	if Protected(name) {
		return true
	}
	if x == nil || x.m == nil {
		return false
	}
	parts := make([]string, len(parentParts)+1)
	copy(parts, parentParts)
	parts[len(parentParts)] = name
	return x.m.Match(parts, isDir)
}
