// Package progress shows a command's long steps (an image build, a push,
// the wait for a pod, the first sync) the same way everywhere: on a
// terminal, a bar per step with its count or bytes, a status and the
// elapsed time, drawn by mpb (the library podman's own image copies use);
// elsewhere (a pipe, a log, CI) plain lines with no escape codes; with
// --quiet, nothing.
//
// A Reporter is also an io.Writer for one-off messages ("Creating proxy
// …"), printed above any running bars, so code that only prints lines
// keeps working and code with a long step asks For(w) for its Reporter.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"golang.org/x/term"

	"github.com/paude-dev/paude/pkg/termfilter"
)

// Mode is how a Reporter shows progress.
type Mode int

const (
	// Lines prints a line as each step starts, changes status and ends.
	Lines Mode = iota
	// Bars draws a bar per running step, redrawn in place (a terminal).
	Bars
	// Quiet shows nothing.
	Quiet
)

// Unit is what a step counts.
type Unit int

const (
	// Items are steps of a build, layers, files: shown as "3/9" on a bar
	// that fills once the total is known.
	Items Unit = iota
	// Bytes are shown as "12.0 MiB / 48.0 MiB".
	Bytes
	// Nothing is counted (a wait for a pod): a spinner and the status.
	Nothing
)

// Reporter shows the steps of one command. It is safe for concurrent use:
// a step's podman output and the API's waits report from their own
// goroutines.
type Reporter struct {
	out  io.Writer
	mode Mode
	now  func() time.Time
	// barOptions are added to the bars' container (tests force a TTY).
	barOptions []mpb.ContainerOption

	mu     sync.Mutex
	bars   *mpb.Progress // while at least one step runs, in Bars mode
	active int
}

// New returns a Reporter writing to out in the given mode.
func New(out io.Writer, mode Mode) *Reporter {
	return &Reporter{out: out, mode: mode, now: time.Now}
}

// ForTerminal returns a Reporter drawing bars when out is a terminal and
// printing lines otherwise; quiet silences it.
func ForTerminal(out io.Writer, quiet bool) *Reporter {
	switch {
	case quiet:
		return New(out, Quiet)
	case IsTerminal(out):
		return New(out, Bars)
	default:
		return New(out, Lines)
	}
}

// For returns w as a Reporter: w itself when it is one, else a Reporter
// printing lines on w. Code handed a plain writer (a test's buffer) thus
// gets lines, and the command's terminal gets bars.
func For(w io.Writer) *Reporter {
	if r, ok := w.(*Reporter); ok {
		return r
	}
	if w == nil {
		w = io.Discard
	}
	return New(w, Lines)
}

// Mode is how r shows progress.
func (r *Reporter) Mode() Mode { return r.mode }

// Terminal is the terminal r draws bars on, for a program that draws its
// own (podman's per-layer push bars) while no step of r runs; nil when r
// draws no bars or a step is running.
func (r *Reporter) Terminal() *os.File {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.out.(*os.File)
	if r.mode != Bars || !ok || r.active > 0 {
		return nil
	}
	return f
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Write prints a message: above the bars while steps run, as is
// otherwise. Quiet drops it unless it is a warning ("Warning: …"): the
// Podman backend's warnings share its progress writer, and --quiet must
// not hide them.
func (r *Reporter) Write(p []byte) (int, error) {
	if r.mode == Quiet && !isWarning(p) {
		return len(p), nil
	}
	r.mu.Lock()
	bars := r.bars
	r.mu.Unlock()
	if bars != nil {
		if n, err := bars.Write(p); err == nil {
			return n, nil
		}
	}
	return r.out.Write(p)
}

// Start begins a step named name (a phrase such as "Pushing image x"),
// counting unit, with total items or bytes (0 when not known yet).
// Every Step must end with Done.
func (r *Reporter) Start(name string, unit Unit, total int64) *Step {
	s := &Step{r: r, name: oneLine(name), unit: unit, total: total, started: r.now()}
	switch r.mode {
	case Lines:
		r.line(s.name)
	case Bars:
		r.mu.Lock()
		if r.bars == nil {
			opts := append([]mpb.ContainerOption{mpb.WithOutput(r.out), mpb.WithWidth(32), mpb.WithRefreshRate(150 * time.Millisecond)}, r.barOptions...)
			r.bars = mpb.New(opts...)
		}
		r.active++
		s.bar = newBar(r.bars, s)
		r.mu.Unlock()
	}
	return s
}

// finish ends a step's bar; the last one to end waits for the final
// frame, so what follows starts below the bars.
func (r *Reporter) finish() {
	r.mu.Lock()
	r.active--
	var bars *mpb.Progress
	if r.active == 0 {
		bars, r.bars = r.bars, nil
	}
	r.mu.Unlock()
	if bars != nil {
		bars.Wait()
	}
}

func (r *Reporter) line(text string) {
	fmt.Fprintln(r.out, text)
}

// Step is one running step.
type Step struct {
	r       *Reporter
	name    string
	unit    Unit
	started time.Time
	bar     *mpb.Bar

	mu      sync.Mutex
	status  string
	current int64
	total   int64
	ended   bool
}

// SetTotal sets what the step counts up to.
func (s *Step) SetTotal(total int64) {
	s.mu.Lock()
	s.total = total
	s.mu.Unlock()
	if s.bar != nil {
		s.bar.SetTotal(total, false)
	}
}

// Add counts n more items or bytes.
func (s *Step) Add(n int64) {
	s.mu.Lock()
	s.current += n
	cur := s.current
	s.mu.Unlock()
	if s.bar != nil {
		s.bar.SetCurrent(cur)
	}
}

// SetCurrent sets the count.
func (s *Step) SetCurrent(n int64) {
	s.mu.Lock()
	s.current = n
	s.mu.Unlock()
	if s.bar != nil {
		s.bar.SetCurrent(n)
	}
}

// Status sets the step's status (a pod's phase and reason, the build
// instruction running). Text from elsewhere (a cluster's event, a
// Containerfile) is stripped of control characters first. In Lines mode a
// changed status prints a line.
func (s *Step) Status(text string) {
	text = oneLine(text)
	s.mu.Lock()
	changed := text != s.status && !s.ended
	s.status = text
	s.mu.Unlock()
	if changed && s.r.mode == Lines && text != "" {
		s.r.line(s.name + ": " + text)
	}
}

// Done ends the step, failed when err is not nil. It is safe to call more
// than once: the first call counts.
func (s *Step) Done(err error) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.mu.Unlock()
	switch s.r.mode {
	case Lines:
		s.r.line(s.summary(err))
	case Bars:
		if err != nil {
			s.bar.Abort(false)
		} else {
			s.bar.SetTotal(-1, true)
		}
		s.bar.Wait()
		s.r.finish()
	}
}

// summary is a finished step's line: "NAME: done in 2.1s (12.0 MiB)".
func (s *Step) summary(err error) string {
	elapsed := s.r.now().Sub(s.started).Round(100 * time.Millisecond)
	if err != nil {
		return fmt.Sprintf("%s: failed after %s", s.name, elapsed)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: done in %s", s.name, elapsed)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current > 0 {
		fmt.Fprintf(&b, " (%s)", s.count(s.current, s.total))
	}
	return b.String()
}

// count shows current of total in the step's unit.
func (s *Step) count(current, total int64) string {
	if s.unit == Bytes {
		if total > 0 && total != current {
			return fmt.Sprintf("%s of %s", FormatBytes(current), FormatBytes(total))
		}
		return FormatBytes(current)
	}
	if total > 0 {
		return fmt.Sprintf("%d/%d", current, total)
	}
	return fmt.Sprint(current)
}

func (s *Step) statusText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// FormatBytes shows n bytes in binary units, as kubectl and podman do.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func isWarning(p []byte) bool {
	const prefix = "warning:"
	return len(p) >= len(prefix) && strings.EqualFold(string(p[:len(prefix)]), prefix)
}

// oneLine makes text from elsewhere (a pod's reason, an image name) safe
// on one line of a terminal.
func oneLine(text string) string {
	return strings.TrimSpace(termfilter.Sanitize(text))
}
