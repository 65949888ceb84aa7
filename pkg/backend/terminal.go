package backend

import (
	"io"
	"strings"

	"github.com/paude-dev/paude/pkg/termfilter"
)

// HyperlinksEnv is the variable a user sets to "1" to let the agent's OSC 8
// hyperlinks through to the terminal on attach; every other sequence that
// reaches past the screen is always removed.
const HyperlinksEnv = "PAUDE_HYPERLINKS"

// AttachFilter wraps w, the user's terminal, so that what a session sends
// cannot act on it beyond drawing the screen: the agent owns the tmux
// server it attaches to, and can make it send anything (OSC 52 clipboard
// writes, titles, DCS and tmux passthrough). Both backends pass their
// attach output, and any screen they print, through it.
func AttachFilter(w io.Writer, getenv func(string) string) io.Writer {
	if w == nil {
		return nil
	}
	return termfilter.NewWriter(w, termfilter.Options{Hyperlinks: getenv(HyperlinksEnv) == "1"})
}

// SanitizeLines makes text from a session (a container's last output, an
// error it printed) safe to show in a message: each line loses its
// escape sequences and the characters a terminal would act on, and keeps
// its line break.
func SanitizeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = termfilter.Sanitize(l)
	}
	return strings.Join(lines, "\n")
}
