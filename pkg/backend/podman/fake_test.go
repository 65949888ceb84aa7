package podman

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/podmancli"
)

// fakeRunner is a Runner that records every argv and answers from a list
// of rules, first match wins. A call no rule matches fails the test.
type fakeRunner struct {
	t     *testing.T
	mu    sync.Mutex
	rules []*rule
	calls []string
	// tars are the entries of the tar streams that calls read from
	// stdin (podman cp -), by call index, one line per entry.
	tars map[int][]string
}

// rule answers calls whose argv, joined by spaces, starts with prefix.
// times > 0 limits how often it answers; then later rules get the call.
type rule struct {
	prefix string
	out    string
	err    error
	times  int
	// stream is written to the Out of a streamed call.
	stream string
	// in receives what a streamed call read from In.
	in *bytes.Buffer
}

func newFake(t *testing.T) *fakeRunner { return &fakeRunner{t: t} }

// on adds a rule answering out (and err) to calls starting with prefix.
func (f *fakeRunner) on(prefix, out string, err error) *rule {
	r := &rule{prefix: prefix, out: out, err: err}
	f.rules = append(f.rules, r)
	return r
}

// fail is an podmancli.ExitError with a code and stderr, as podman gives them.
func fail(code int, stderr string) error { return &podmancli.ExitError{Code: code, Stderr: stderr} }

func (f *fakeRunner) match(args []string) *rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	line := strings.Join(args, " ")
	f.calls = append(f.calls, line)
	for _, r := range f.rules {
		if r.times < 0 || !strings.HasPrefix(line, r.prefix) {
			continue
		}
		if r.times > 0 {
			r.times--
			if r.times == 0 {
				r.times = -1
			}
		}
		return r
	}
	f.t.Errorf("unexpected podman call: %s", line)
	return &rule{err: fmt.Errorf("unexpected call %q", line)}
}

func (f *fakeRunner) Run(_ context.Context, args []string) ([]byte, error) {
	r := f.match(args)
	return []byte(r.out), withArgs(r.err, args)
}

func (f *fakeRunner) Stream(_ context.Context, args []string, s genericiooptions.IOStreams) error {
	r := f.match(args)
	if s.In != nil && len(args) > 1 && args[0] == "cp" && args[1] == "-" {
		f.readTar(len(f.Calls())-1, s.In)
	} else if s.In != nil && r.in != nil {
		_, _ = io.Copy(r.in, s.In)
	}
	if s.Out != nil {
		_, _ = io.WriteString(s.Out, r.stream)
	}
	return withArgs(r.err, args)
}

func withArgs(err error, args []string) error {
	var ee *podmancli.ExitError
	if errors.As(err, &ee) {
		c := *ee
		c.Args = args
		return &c
	}
	return err
}

// readTar records a tar stream as podman cp would unpack it: one line
// per entry with its type, mode and name, and for the env file its
// NUL-terminated records, one per line, quoted.
func (f *fakeRunner) readTar(call int, in io.Reader) {
	var lines []string
	tr := tar.NewReader(in)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.t.Errorf("call %d: unreadable tar stream: %v", call, err)
			return
		}
		data, _ := io.ReadAll(tr)
		lines = append(lines, fmt.Sprintf("%c %04o %s", hdr.Typeflag, hdr.Mode, hdr.Name))
		if hdr.Name == envFileRel {
			for _, rec := range strings.SplitAfter(string(data), "\x00") {
				if rec != "" {
					lines = append(lines, fmt.Sprintf("    %q", rec))
				}
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tars == nil {
		f.tars = map[int][]string{}
	}
	f.tars[call] = lines
}

// Tars returns the tar streams the calls read, by call index.
func (f *fakeRunner) Tars() map[int][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.tars)
}

// Calls returns the recorded argv lines.
func (f *fakeRunner) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// newTestBackend is a backend on a fake runner with a fixed clock and ID.
func newTestBackend(t *testing.T, f *fakeRunner, opts Options) *Backend {
	t.Helper()
	opts.Runner = f
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Unix(1767323045, 0) }
	}
	if opts.Random == nil {
		opts.Random = bytes.NewReader([]byte{0xde, 0xad, 0xbe, 0xef})
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.HomeDir == "" {
		opts.HomeDir = t.TempDir()
	}
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 5 * time.Second
	}
	b := New(opts)
	// A fixed host: rootful, two CPUs, whatever machine runs the tests.
	b.host = func() hostInfo { return hostInfo{CPUs: 2} }
	return b
}

// diffCalls reports the first difference between two call lists.
func diffCalls(t *testing.T, got, want []string) {
	t.Helper()
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("call %d differs\n got: %s\nwant: %s\nall calls:\n  %s", i, g, w, strings.Join(got, "\n  "))
			return
		}
	}
}

// inspectJSON is `podman container inspect` output for one container;
// nets maps a network to "IP" or "IP MAC".
func inspectJSON(name, status string, exit int, labels map[string]string, nets map[string]string) string {
	var l, n []string
	for k, v := range labels {
		l = append(l, fmt.Sprintf("%q:%q", k, v))
	}
	for k, v := range nets {
		ip, mac, _ := strings.Cut(v, " ")
		n = append(n, fmt.Sprintf("%q:{\"IPAddress\":%q,\"MacAddress\":%q}", k, ip, mac))
	}
	return fmt.Sprintf(`[{"Name":%q,"State":{"Status":%q,"Running":%t,"ExitCode":%d},"Config":{"Labels":{%s}},"NetworkSettings":{"Networks":{%s}}}]`,
		name, status, status == "running", exit, strings.Join(l, ","), strings.Join(n, ","))
}
