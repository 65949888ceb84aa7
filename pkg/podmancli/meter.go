package podmancli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paude-dev/paude/pkg/progress"
	"github.com/paude-dev/paude/pkg/termfilter"
)

// lineWriter calls line for each complete line written to it; the bytes
// of an unfinished line wait for the rest (or flush).
type lineWriter struct {
	mu      sync.Mutex
	partial []byte
	line    func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 64<<10 {
		// A "line" this long is a progress stream with no newlines: show
		// it as it is rather than hold it.
		w.line(string(w.partial))
		w.partial = w.partial[:0]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.line(string(w.partial))
		w.partial = nil
	}
}

// stepRe matches podman build's "STEP 3/9: RUN x" lines.
var stepRe = regexp.MustCompile(`^STEP (\d+)/(\d+): (.*)$`)

// buildMeter turns a podman build's output into its step's progress: each
// "STEP n/m: X" line sets the count and the status. In Lines mode every
// line is printed too, as logs want the whole build; each is sanitized
// first, as the Containerfile's commands may come from a hostile project
// and print escape sequences.
func buildMeter(r *progress.Reporter, step *progress.Step) *lineWriter {
	echo := r.Mode() == progress.Lines
	return &lineWriter{line: func(line string) {
		line = strings.TrimSpace(termfilter.Sanitize(line))
		if m := stepRe.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			total, _ := strconv.ParseInt(m[2], 10, 64)
			step.SetTotal(total)
			step.SetCurrent(n - 1)
			if !echo {
				step.Status(shorten(m[3], 48))
			}
		}
		if echo && line != "" {
			_, _ = r.Write([]byte(line + "\n"))
		}
	}}
}

// pushMeter turns podman push's output into its step's status ("layer
// 3", "manifest"); the bytes come from watchWritten.
func pushMeter(step *progress.Step) *lineWriter {
	blobs := 0
	return &lineWriter{line: func(line string) {
		switch {
		case strings.HasPrefix(line, "Copying blob "):
			blobs++
			if strings.HasSuffix(line, "skipped: already exists") {
				step.Status("layer " + strconv.Itoa(blobs) + " already there")
			} else {
				step.Status("layer " + strconv.Itoa(blobs))
			}
		case strings.HasPrefix(line, "Copying config "):
			step.Status("config")
		case strings.HasPrefix(line, "Writing manifest"):
			step.Status("manifest")
		}
	}}
}

// watchWritten counts the bytes podman's process tree has written (layers
// copied out of storage to temporary files, then to the registry) into
// step until ctx ends. It needs Linux's /proc; elsewhere (macOS, where a podman machine
// pushes) it shows nothing and the status still moves.
func watchWritten(ctx context.Context, pid int, step *progress.Step) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if n, ok := writtenBytes(pid); ok {
			step.SetCurrent(n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// writtenBytes is the wchar of pid and its descendants: rootless podman
// re-executes itself in a user namespace, and the child does the push.
func writtenBytes(pid int) (int64, bool) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "io"))
	if err != nil {
		return 0, false
	}
	var total int64
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			total, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	for _, t := range tasks {
		kids, _ := os.ReadFile(t)
		for _, k := range strings.Fields(string(kids)) {
			if child, err := strconv.Atoi(k); err == nil {
				if n, ok := writtenBytes(child); ok {
					total += n
				}
			}
		}
	}
	return total, true
}

// shorten cuts s to n runes with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
