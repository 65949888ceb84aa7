package config

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Error is one problem found in a configuration file. Line and Col are
// 1-based and point at the offending value (or key, for unknown keys); Col
// counts characters, not bytes. Line is 0 when the problem has no place in a
// file (a value set by a program rather than read from a file).
type Error struct {
	Path   string
	Line   int
	Col    int
	Reason string

	// offset is the byte offset in the file, used to sort errors.
	offset int
}

// Error formats the error as "path:line:col: reason".
func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Col, e.Reason)
	case e.Path != "":
		return e.Path + ": " + e.Reason
	default:
		return e.Reason
	}
}

// ErrorList is every problem found in one file, sorted by position. Its
// Error method prints one problem per line.
type ErrorList []*Error

// Error joins the errors, one per line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap exposes the individual errors to errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sorted returns l ordered by position with exact duplicates removed, or
// nil when l is empty (so that a nil error interface results).
func (l ErrorList) sorted() error {
	if len(l) == 0 {
		return nil
	}
	out := append(ErrorList(nil), l...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].offset < out[j].offset })
	dedup := out[:1]
	for _, e := range out[1:] {
		last := dedup[len(dedup)-1]
		if e.offset == last.offset && e.Reason == last.Reason {
			continue
		}
		dedup = append(dedup, e)
	}
	return dedup
}

// source is the text of one configuration file, able to turn byte offsets
// into line and character columns.
type source struct {
	path       string
	data       []byte
	lineStarts []int
}

func newSource(path string, data []byte) *source {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &source{path: path, data: data, lineStarts: starts}
}

// position returns the 1-based line and character column of a byte offset.
func (s *source) position(offset int) (line, col int) {
	offset = max(0, min(offset, len(s.data)))
	// The last line start at or before offset.
	i := sort.Search(len(s.lineStarts), func(i int) bool { return s.lineStarts[i] > offset }) - 1
	return i + 1, 1 + utf8.RuneCount(s.data[s.lineStarts[i]:offset])
}

// offsetOf turns a 1-based line and byte column (as hujson reports them)
// back into a byte offset.
func (s *source) offsetOf(line, byteCol int) int {
	if line < 1 || line > len(s.lineStarts) {
		return len(s.data)
	}
	return min(s.lineStarts[line-1]+max(byteCol-1, 0), len(s.data))
}

// errorAt builds an Error for a byte offset.
func (s *source) errorAt(offset int, format string, args ...any) *Error {
	line, col := s.position(offset)
	return &Error{Path: s.path, Line: line, Col: col, Reason: fmt.Sprintf(format, args...), offset: offset}
}

// firstInvalidUTF8 returns the offset of the first byte that is not valid
// UTF-8, or -1.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}
