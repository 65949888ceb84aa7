package gitboundary

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Display returns s ready to print on the user's terminal: unchanged when
// every rune is printable, else Go-quoted, so escape sequences, bidi
// controls and invalid UTF-8 show as \x1b, \u202e or \xff instead of
// acting on the terminal. Everything that comes from a session (ref names,
// commit subjects, git's "remote:" lines, file names) goes through it.
func Display(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// displayLines is Display for each line of multi-line output (git's
// stderr), dropping empty lines and keeping at most the last max lines.
func displayLines(text string, limit int) string {
	var lines []string
	for l := range strings.SplitSeq(strings.ReplaceAll(text, "\r", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, Display(l))
		}
	}
	if len(lines) > limit {
		lines = lines[len(lines)-limit:]
	}
	return strings.Join(lines, "; ")
}
