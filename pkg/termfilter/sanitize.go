package termfilter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Sanitize makes agent-writable text safe to print as part of a one-line
// message: escape sequences are removed whole, line breaks and tabs become
// spaces, and every other character a terminal would act on or not show
// (controls, bidirectional overrides, zero-width characters) is removed.
// Each run of invalid UTF-8 becomes U+FFFD.
func Sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	p := ansi.NewParser()
	// String data is not needed; a small buffer keeps huge inputs cheap.
	p.SetDataSize(64)
	p.SetHandler(ansi.Handler{
		Print: func(r rune) {
			if unicode.IsPrint(r) {
				b.WriteRune(r)
			}
		},
		Execute: func(c byte) {
			switch c {
			case '\t', '\n', '\v', '\f', '\r':
				b.WriteByte(' ')
			}
		},
	})
	// Replacing invalid UTF-8 first keeps the parser from swallowing the
	// byte after a broken character.
	s = strings.ToValidUTF8(s, "\uFFFD")
	for i := 0; i < len(s); i++ {
		p.Advance(s[i])
	}
	return b.String()
}

// Printable shows agent-writable text for review, with nothing hidden:
// every character that is not printable (controls including ESC, newlines
// and tabs, bidirectional overrides, zero-width characters) is written as
// a Go escape such as \x1b, \n or \u202e, and each invalid UTF-8 byte as
// \xNN. Callers split multi-line text into lines first.
func Printable(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
