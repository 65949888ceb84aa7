package tree

import (
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// TempPrefix starts the name of every file sync writes before renaming it
// into place; such names are never synced.
const TempPrefix = ".paude-tmp-"

// ConflictMarker is part of the name of the copy sync keeps of the pod's
// version of a file changed on both sides; such copies stay local.
const ConflictMarker = ".paude-conflict-"

// Protected reports whether a single path component is never synced:
// any spelling of ".git" (git crosses the boundary only as a fetch), and
// sync's own temporary and conflict files.
func Protected(name string) bool {
	return IsGitName(name) || strings.HasPrefix(name, TempPrefix) || strings.Contains(name, ConflictMarker)
}

// IsGitName reports whether a path component names a git directory on
// some file system: ".git" in any letter case, and with the Unicode
// characters HFS+ ignores (zero-width joiners, direction marks, BOM)
// removed, as git itself checks before it writes a tree.
func IsGitName(name string) bool {
	if len(name) < 4 {
		return false
	}
	if strings.EqualFold(name, ".git") {
		return true
	}
	if !hasNonASCII(name) {
		// Only the non-ASCII ignorable code points can hide a ".git".
		return false
	}
	var b strings.Builder
	for _, r := range name {
		if hfsIgnorable(r) {
			continue
		}
		b.WriteRune(r)
	}
	return strings.EqualFold(b.String(), ".git")
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// hfsIgnorable lists the code points HFS+ drops when comparing names.
func hfsIgnorable(r rune) bool {
	switch {
	case r >= 0x200c && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x206a && r <= 0x206f, r == 0xfeff:
		return true
	}
	return false
}

var folder = cases.Fold()

// FoldKey is the form under which a case-insensitive, normalisation-
// insensitive file system (macOS's default) considers two names equal:
// Unicode case folding of the NFC form.
func FoldKey(name string) string {
	return folder.String(norm.NFC.String(name))
}
