package termfilter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Run longer with: go test ./pkg/termfilter -run '^$' -fuzz FuzzFilter -fuzztime 60s

// FuzzFilter checks, for any input, that the output holds nothing the
// policy removes (checked by an independent scan, not by the filter), that
// filtering the output again changes nothing, and that where the input is
// split does not matter.
func FuzzFilter(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add([]byte(c.in), c.opts.Hyperlinks, uint16(len(c.in)/2))
	}
	f.Fuzz(func(t *testing.T, in []byte, hyperlinks bool, split uint16) {
		opts := Options{Hyperlinks: hyperlinks}
		out := writeChunks(t, opts, in)
		if err := checkSafe([]byte(out), opts); err != nil {
			t.Fatalf("unsafe output for %q: %v\noutput: %q", in, err, out)
		}
		// A newline ends a broken character the output may end with,
		// which a filter holds until it sees what follows.
		if again := writeChunks(t, opts, []byte(out+"\n")); again != out+"\n" {
			t.Fatalf("filtering the output again changed it:\n%q\n%q", out, again)
		}
		i := int(split) % (len(in) + 1)
		if got := writeChunks(t, opts, in[:i], in[i:]); got != out {
			t.Fatalf("split at %d: %q, whole: %q", i, got, out)
		}
	})
}

// FuzzPlainText checks that printable text, ASCII or not, passes
// unchanged.
func FuzzPlainText(f *testing.F) {
	f.Add("hello, world")
	f.Add("h\u00e9llo \u2192 \u4e16\u754c \U0001f389 \u00a0\u00ad")
	f.Fuzz(func(t *testing.T, s string) {
		text := printableOnly(s)
		if got := writeChunks(t, Options{}, []byte(text)); got != text {
			t.Fatalf("text changed: %q -> %q", text, got)
		}
	})
}

// attacks wrap a payload in each removed sequence type.
var attacks = []func(payload string) string{
	func(p string) string { return "\x1b]52;c;" + p + "\x07" },
	func(p string) string { return "\x1b]52;c;" + p + "\x1b\\" },
	func(p string) string { return "\x9d52;c;" + p + "\x9c" },
	func(p string) string { return "\xc2\x9d52;c;" + p + "\xc2\x9c" },
	func(p string) string { return "\x1b]0;" + p + "\x07" },
	func(p string) string { return "\x1b]2;" + p + "\x1b\\" },
	func(p string) string { return "\x1b]1337;File=" + p + "\x07" },
	func(p string) string { return "\x1b]8;;" + p + "\x1b\\" },
	func(p string) string { return "\x1bPtmux;\x1b\x1b]52;c;" + p + "\x07\x1b\\" },
	func(p string) string { return "\x1bP" + p + "\x1b\\" },
	func(p string) string { return "\x90" + p + "\x9c" },
	func(p string) string { return "\x1b_" + p + "\x1b\\" },
	func(p string) string { return "\x1bX" + p + "\x1b\\" },
	func(p string) string { return "\x1b^" + p + "\x1b\\" },
	func(p string) string { return "\x1bk" + p + "\x1b\\" },
}

// FuzzAttack checks that text around a removed sequence survives exactly,
// whatever the payload and wherever the stream is split.
func FuzzAttack(f *testing.F) {
	f.Add("before ", "cGF1ZGU=", uint8(0), uint16(3))
	f.Add("\u00e9", "pwned title", uint8(4), uint16(9))
	f.Fuzz(func(t *testing.T, prefix, payload string, kind uint8, split uint16) {
		prefix = printableOnly(prefix)
		// Printable ASCII cannot end a string sequence early.
		payload = strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return -1
			}
			return r
		}, payload)
		attack := attacks[int(kind)%len(attacks)](payload)
		in := []byte(prefix + attack + "after")
		i := int(split) % (len(in) + 1)
		want := prefix + "after"
		if got := writeChunks(t, Options{}, in[:i], in[i:]); got != want {
			t.Fatalf("input %q split at %d: got %q, want %q", in, i, got, want)
		}
	})
}

// printableOnly keeps the printable characters of s.
func printableOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// checkSafe scans filter output on its own terms: no string introducer in
// any form, no OSC but an allowed one, no XTWINOPS, DOCS or screen title.
func checkSafe(out []byte, opts Options) error {
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRune(out[i:])
		if r == utf8.RuneError && size == 1 {
			// A UTF-8 terminal shows one replacement character for the
			// longest start of a valid character (Unicode's "maximal
			// subpart"), so bytes inside it are never read as controls.
			size = maximalSubpart(out[i:])
		}
		switch {
		case r == utf8.RuneError && size == 1 && isStringIntroducer(out[i]):
			return fmt.Errorf("8-bit string introducer %#x at %d", out[i], i)
		case size == 2 && r < 0x100 && isStringIntroducer(byte(r)):
			return fmt.Errorf("UTF-8 spelled string introducer U+%04X at %d", r, i)
		case out[i] == esc:
			n, err := checkEscape(out[i:], opts)
			if err != nil {
				return fmt.Errorf("at %d: %w", i, err)
			}
			i += n
			continue
		case out[i] == 0x9b || (size == 2 && r == 0x9b):
			n, err := checkCSI(out[i+size:])
			if err != nil {
				return fmt.Errorf("at %d: %w", i, err)
			}
			i += size + n
			continue
		}
		i += size
	}
	return nil
}

func isStringIntroducer(b byte) bool {
	return b == 0x90 || b == 0x98 || b == 0x9d || b == 0x9e || b == 0x9f
}

// checkEscape checks the sequence at s (s[0] is ESC) and returns its
// length.
func checkEscape(s []byte, opts Options) (int, error) {
	if len(s) < 2 {
		return 1, nil
	}
	switch s[1] {
	case 'P', 'X', '^', '_', 'k', '%', '\\':
		return 0, fmt.Errorf("ESC %q sequence passed", s[1])
	case '[':
		n, err := checkCSI(s[2:])
		return 2 + n, err
	case ']':
		end := bytes.IndexAny(s[2:], "\x07\x1b")
		if end < 0 {
			return 0, fmt.Errorf("unterminated OSC %q", s)
		}
		data := string(s[2 : 2+end])
		allowed := data == "10;?" || data == "11;?" || data == "12;?" ||
			opts.Hyperlinks && strings.HasPrefix(data, "8;") && strings.Count(data, ";") >= 2
		if !allowed {
			return 0, fmt.Errorf("OSC %q passed", data)
		}
		n := 2 + end + 1
		if s[2+end] == esc && len(s) > n && s[n] == '\\' {
			n++ // its ST
		}
		return n, nil
	}
	return 1, nil
}

// checkCSI checks the CSI body at s and returns its length.
func checkCSI(s []byte) (int, error) {
	intermediate := false
	for i, b := range s {
		switch {
		case b >= 0x20 && b <= 0x2f:
			intermediate = true
		case b >= 0x40 && b <= 0x7e:
			if b == 't' && !intermediate {
				return 0, fmt.Errorf("XTWINOPS %q passed", s[:i+1])
			}
			return i + 1, nil
		case b == esc:
			return i, nil
		}
	}
	return len(s), nil
}

// maximalSubpart returns the length of the longest start of a well-formed
// UTF-8 character at s (Unicode table 3-7), at least 1.
func maximalSubpart(s []byte) int {
	var want int
	lo, hi := byte(0x80), byte(0xbf)
	switch b := s[0]; {
	case b >= 0xc2 && b <= 0xdf:
		want = 2
	case b == 0xe0:
		want, lo = 3, 0xa0
	case b == 0xed:
		want, hi = 3, 0x9f
	case b >= 0xe1 && b <= 0xef:
		want = 3
	case b == 0xf0:
		want, lo = 4, 0x90
	case b == 0xf4:
		want, hi = 4, 0x8f
	case b >= 0xf1 && b <= 0xf3:
		want = 4
	default:
		return 1
	}
	n := 1
	for n < want && n < len(s) && s[n] >= lo && s[n] <= hi {
		n++
		lo, hi = 0x80, 0xbf
	}
	return n
}
