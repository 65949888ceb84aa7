package termfilter

import (
	"bytes"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi/parser"
)

// oscQueries are the OSC strings that only ask: the terminal answers with
// its default foreground, background and cursor colour on the input side,
// which goes back to the container. tmux asks them on attach.
var oscQueries = [][]byte{[]byte("10;?"), []byte("11;?"), []byte("12;?")}

// oscHyperlink starts an OSC 8 hyperlink: "8;params;URI".
var oscHyperlink = []byte("8;")

// csiVerdict decides a CSI sequence completed by final. Only XTWINOPS
// (final 't', no intermediate) goes: it resizes, moves, raises and
// iconifies the window, pushes and pops the title and reports it on the
// input side. Cursor movement, erasing, modes, SGR and the queries tmux
// makes stay. (The parser's packed command is not used: a control inside
// the sequence overwrites it.)
func (f *filter) csiVerdict(final byte) verdict {
	if final == 't' && !f.hasIntermediate() {
		return drop
	}
	return keep
}

// hasIntermediate reports whether the held sequence has an intermediate
// byte (0x20-0x2F); its introducer has none.
func (f *filter) hasIntermediate() bool {
	for _, b := range f.seq {
		if b >= 0x20 && b <= 0x2f {
			return true
		}
	}
	return false
}

// escVerdict decides a complete ESC sequence. DOCS (`ESC % …`) goes: it
// switches the terminal's encoding, and out of UTF-8 the terminal would
// read the 8-bit controls inside characters the filter passed as text.
// The parser keeps only the last intermediate byte, so look at them all.
func (f *filter) escVerdict() verdict {
	if bytes.IndexByte(f.seq, '%') >= 0 {
		return drop
	}
	return keep
}

// stringVerdict decides a string sequence ending at terminator (BEL, the
// 8-bit ST, or the ESC that begins `ESC \`). DCS, SOS, PM and APC never
// pass; an OSC passes when it is on the allowlist in its 7-bit form, ends
// with BEL or ESC, and its data is valid UTF-8 without controls (so that
// no terminal reads part of it as a control the filter did not see).
func (f *filter) stringVerdict(st parser.State, terminator byte) verdict {
	if st != parser.OscStringState || f.dropping || f.eightBit || terminator == st8 {
		return drop
	}
	if len(f.seq) < 2 || f.seq[0] != esc || f.seq[1] != ']' {
		return drop
	}
	data := f.seq[2:]
	if !plainUTF8(data) {
		return drop
	}
	if f.opts.Hyperlinks && bytes.HasPrefix(data, oscHyperlink) && bytes.Count(data, []byte{';'}) >= 2 {
		return keep
	}
	for _, q := range oscQueries {
		if bytes.Equal(data, q) {
			return keep
		}
	}
	return drop
}

// oscMayPass reports whether the OSC held so far could still become one
// on the allowlist.
func (f *filter) oscMayPass() bool {
	if len(f.seq) < 2 {
		return true
	}
	data := f.seq[2:]
	if f.opts.Hyperlinks && (bytes.HasPrefix(data, oscHyperlink) || bytes.HasPrefix(oscHyperlink, data)) {
		return true
	}
	for _, q := range oscQueries {
		if bytes.HasPrefix(q, data) {
			return true
		}
	}
	return false
}

// plainUTF8 reports whether b is valid UTF-8 without C0 or C1 controls or
// DEL.
func plainUTF8(b []byte) bool {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return false
		}
		b = b[size:]
	}
	return true
}
