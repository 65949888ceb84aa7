package termfilter

import (
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/parser"
)

// MaxSequence is the most bytes of one escape sequence (or OSC string) the
// filter holds while it waits to see whether the sequence may pass. Kept
// sequences are far shorter: CSI sequences are tens of bytes, and
// terminals cap an OSC 8 URI at about 2 KiB. A longer sequence is dropped.
const MaxSequence = 4096

// Options choose what passes beyond the screen-drawing default.
type Options struct {
	// Hyperlinks keeps OSC 8 hyperlinks. Off by default: a link's text can
	// show one URL while it opens another.
	Hyperlinks bool
}

// Control bytes the filter looks at itself.
const (
	esc    = 0x1b
	bel    = 0x07
	st8    = 0x9c // 8-bit ST
	c2Lead = 0xc2 // UTF-8 lead byte of U+0080..U+00BF, the C1 controls among them
)

// verdict is the decision on one sequence.
type verdict uint8

const (
	keep verdict = iota
	drop
)

// filter is the streaming state shared by Writer and Reader. It is not
// safe for concurrent use.
type filter struct {
	opts Options
	p    *ansi.Parser
	// seq holds the bytes of the unfinished sequence or UTF-8 character,
	// from its first byte; it stays empty while dropping.
	seq []byte
	// dropping says the unfinished sequence is being removed: its bytes
	// are discarded as they come instead of being held.
	dropping bool
	// eightBit says the unfinished sequence began with an 8-bit C1
	// introducer (or its UTF-8 spelling).
	eightBit bool
}

func newFilter(opts Options) *filter {
	p := ansi.NewParser()
	// The parser collects string data for us only up to this size, so a
	// never-ending string cannot grow it either.
	p.SetDataSize(MaxSequence)
	return &filter{opts: opts, p: p, seq: make([]byte, 0, MaxSequence+1)}
}

// filter appends to out what of in may reach the terminal and returns it.
// Bytes of an unfinished sequence or character are held for the next call.
func (f *filter) filter(out, in []byte) []byte {
	for i := 0; i < len(in); i++ {
		if f.p.State() == parser.GroundState {
			// Printable ASCII and whole, valid UTF-8 characters (but the
			// C1 controls) in the ground state only print: pass a run of
			// them without stepping the parser byte by byte.
			j := i
			for j < len(in) {
				if c := in[j]; c >= 0x20 && c < 0x7f {
					j++
					continue
				}
				r, size := utf8.DecodeRune(in[j:])
				if r == utf8.RuneError || r <= 0x9f {
					break
				}
				j += size
			}
			if j > i {
				out = append(out, in[i:j]...)
				i = j - 1
				continue
			}
		}
		out = f.step(out, in[i])
	}
	return out
}

// step feeds one byte through the parser and decides where it goes.
func (f *filter) step(out []byte, b byte) []byte {
	st := f.p.State()
	c1InUTF8 := false
	if st == parser.Utf8State {
		switch {
		case !continues(f.seq, b):
			// Not a byte a valid character has here (ESC, ASCII, or an
			// overlong or surrogate form): terminals show the broken
			// character and read b afresh. The parser would swallow b into
			// the character, so restart it in the ground state.
			out = append(out, f.seq...)
			f.seq = f.seq[:0]
			f.p.Reset()
			st = parser.GroundState
		case len(f.seq) == 1 && f.seq[0] == c2Lead && b <= 0x9f:
			// U+0080..U+009F is a C1 control spelled in UTF-8, which
			// terminals that decode first act on as the control itself.
			f.seq = f.seq[:0]
			f.p.Reset()
			st = parser.GroundState
			c1InUTF8 = true
		}
	}
	if st == parser.DcsEntryState && b == esc {
		// The parser keeps an ESC right after `ESC P` as DCS data;
		// terminals end the DCS there and read the ESC afresh.
		f.p.Reset()
		st = parser.GroundState
	}
	action := f.p.Advance(b)
	next := f.p.State()

	switch {
	case st == parser.GroundState && next == parser.GroundState:
		// Text and controls that act on the screen only.
		if c1InUTF8 {
			out = append(out, c2Lead)
		}
		return append(out, b)
	case st == parser.Utf8State:
		f.seq = append(f.seq, b)
		if next != parser.Utf8State {
			out = append(out, f.seq...)
			f.seq = f.seq[:0]
		}
		return out
	case next == parser.Utf8State:
		// A character begins; it breaks off any unfinished sequence, which
		// terminals abandon as well.
		f.abandon()
		f.seq = append(f.seq, b)
		return out
	case action != parser.PutAction && (b == esc || isC1Introducer(b)):
		return f.begin(out, st, action, b, c1InUTF8)
	case action == parser.DispatchAction:
		return f.dispatch(out, st, b)
	case next == parser.GroundState:
		// CAN, SUB, a C1 control or a byte no sequence may hold: the
		// sequence is abandoned (terminals do the same), the control acts.
		// An ST ends the sequence and goes with it.
		f.abandon()
		if action == parser.ExecuteAction && b != st8 {
			out = append(out, b)
		}
		return out
	}
	f.hold(next, b)
	return out
}

// begin starts a new sequence at b, an ESC or a C1 introducer. It ends
// whatever came before: a string it terminates, or an unfinished sequence
// it breaks off.
func (f *filter) begin(out []byte, st parser.State, action parser.Action, b byte, c1InUTF8 bool) []byte {
	if action == parser.DispatchAction && b == esc && f.stringVerdict(st, b) == keep {
		// An ESC ends a kept string. Its ST goes out now, whatever follows
		// the ESC: were the ESC to begin a sequence that is dropped, the
		// terminal would never see the string end and would read what
		// follows as its data. The real ST, if it comes, is dropped.
		out = append(out, f.seq...)
		out = append(out, esc, '\\')
	}
	f.abandon()
	f.eightBit = b != esc
	if c1InUTF8 {
		f.seq = append(f.seq, c2Lead)
	}
	f.seq = append(f.seq, b)
	f.enter(f.p.State())
	return out
}

// hold keeps one more byte of the unfinished sequence.
func (f *filter) hold(next parser.State, b byte) {
	f.enter(next)
	if f.dropping {
		return
	}
	f.seq = append(f.seq, b)
	switch {
	case len(f.seq) > MaxSequence:
		f.dropRest()
	case next == parser.OscStringState && !f.oscMayPass():
		// No allowed OSC starts like this: drop it now instead of holding
		// it to its end.
		f.dropRest()
	}
}

// enter marks sequences that are removed whatever follows as dropped, so
// none of their bytes is held.
func (f *filter) enter(state parser.State) {
	switch state {
	case parser.DcsEntryState, parser.DcsParamState, parser.DcsIntermediateState, parser.DcsStringState,
		parser.SosStringState, parser.PmStringState, parser.ApcStringState:
		f.dropRest()
	case parser.OscStringState:
		if f.eightBit {
			f.dropRest()
		}
	}
}

// dispatch handles the byte that completes a sequence.
func (f *filter) dispatch(out []byte, st parser.State, b byte) []byte {
	v := drop
	screenTitle := false
	switch st {
	case parser.CsiEntryState, parser.CsiParamState, parser.CsiIntermediateState:
		v = f.csiVerdict(b)
	case parser.EscapeState, parser.EscapeIntermediateState:
		switch {
		case b == '\\' && !f.hasIntermediate():
			// ST: a kept string has had its ST written already; a
			// dropped one's goes with it; on its own it does nothing.
			v = drop
		case b == 'k' && !f.hasIntermediate():
			screenTitle = true
		default:
			v = f.escVerdict()
		}
	default:
		v = f.stringVerdict(st, b)
	}
	if v == keep && !f.dropping {
		out = append(out, f.seq...)
		out = append(out, b)
	}
	f.abandon()
	if screenTitle {
		// screen and tmux read `ESC k title ESC \` as a string that names
		// the window. The parser has no such state; SOS has the same
		// syntax, so drop the title as an SOS string.
		f.p.Advance(0x98)
		f.dropRest()
	}
	return out
}

// abandon forgets the unfinished sequence.
func (f *filter) abandon() {
	f.seq = f.seq[:0]
	f.dropping = false
	f.eightBit = false
}

// dropRest discards what is held of the unfinished sequence and the rest of
// it as it comes.
func (f *filter) dropRest() {
	f.seq = f.seq[:0]
	f.dropping = true
}

// isC1Introducer reports whether b is an 8-bit C1 control that begins a
// sequence: DCS, SOS, CSI, OSC, PM or APC.
func isC1Introducer(b byte) bool {
	switch b {
	case 0x90, 0x98, 0x9b, 0x9d, 0x9e, 0x9f:
		return true
	}
	return false
}

// continues reports whether b may follow the bytes of the UTF-8 character
// begun in lead (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF).
func continues(lead []byte, b byte) bool {
	lo, hi := byte(0x80), byte(0xbf)
	if len(lead) == 1 {
		switch lead[0] {
		case 0xe0:
			lo = 0xa0
		case 0xed:
			hi = 0x9f
		case 0xf0:
			lo = 0x90
		case 0xf4:
			hi = 0x8f
		}
	}
	return b >= lo && b <= hi
}
