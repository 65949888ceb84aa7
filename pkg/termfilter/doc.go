// Package termfilter removes from a terminal stream the escape sequences
// that reach past the screen into the user's terminal, and passes
// everything else through byte for byte.
//
// The agent owns the tmux server in its container: it can turn on tmux
// passthrough, or configure tmux itself to emit anything, so whatever an
// attach prints on the user's terminal is hostile input. Screen drawing
// (text, UTF-8, C0 controls, CSI cursor movement and SGR colours, ESC
// sequences) is what tmux needs and stays. What acts outside the screen
// goes:
//
//   - every DCS (including tmux passthrough `ESC P tmux; … ESC \`), SOS, PM
//     and APC string: they carry sixel/kitty graphics, terminal queries
//     and setting requests, screen/tmux window titles, and whatever a
//     terminal chooses to do with them;
//   - every OSC except an allowlist. OSC 52 writes the clipboard, OSC 0/1/2
//     the title and icon name, OSC 4/10/11/12/17/19 and the 1xx resets
//     change colours that outlive the session, OSC 7 tells the terminal a
//     working directory, OSC 9/99/777 raise desktop notifications, OSC 1337
//     is iTerm2's file transfer and more, OSC 5113 kitty's. New OSC numbers
//     keep being invented for new powers, so a denylist would always lag:
//     an OSC passes only when it is known to be harmless. The allowlist is
//     the colour queries `OSC 10;?`, `OSC 11;?` and `OSC 12;?` (tmux asks
//     them to learn the background; the answer only tells the container
//     the user's colours) and, with Options.Hyperlinks, OSC 8 hyperlinks,
//     which are off by default because their text can show one URL and
//     open another;
//   - screen/tmux's title string `ESC k … ESC \`, CSI … t (XTWINOPS:
//     resize, move and iconify the window, report its title) and
//     `ESC %` (DOCS: a switch out of UTF-8 would make the terminal read
//     8-bit controls the filter let through as text).
//
// The 8-bit C1 forms of the string introducers (0x90, 0x98, 0x9D, 0x9E,
// 0x9F) and their UTF-8 spellings (C2 90 …), which terminals that decode
// UTF-8 first (VTE, xterm) act on, are removed like the 7-bit ones. A kept
// OSC must be 7-bit, end with BEL or `ESC \`, and hold valid UTF-8 without
// controls, so no terminal can read it as something else, and gets its ST
// written at once when it ends at an ESC, so that the terminal does not
// read what follows as its data.
//
// The filter assumes a UTF-8 terminal, as tmux's output does. A terminal
// reading 8-bit controls (a Latin-1 xterm) would act on bytes inside UTF-8
// characters as C1 controls; no filter that passes UTF-8 text can protect
// it.
//
// Parsing follows the DEC/VT500 state machine of
// github.com/charmbracelet/x/ansi. A removed sequence goes as a whole,
// from its introducer to its terminator, so the terminal never enters its
// state and reads what follows exactly as the filter did. Sequences and
// UTF-8 characters split across writes are held until complete.
//
// Memory is bounded: the filter holds at most MaxSequence bytes of one
// sequence. A sequence still unfinished at that length is dropped whole,
// without holding more of it, up to its terminator (or until the next ESC,
// CAN or SUB, which end any sequence); so a never-terminated string costs
// no memory, and the screen stays blank until the stream sends something
// a terminal would also have ended it with.
package termfilter
