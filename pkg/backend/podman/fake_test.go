package podman

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRunner is a Runner that records every argv and answers from a list
// of rules, first match wins. A call no rule matches fails the test.
type fakeRunner struct {
	t     *testing.T
	mu    sync.Mutex
	rules []*rule
	calls []string
	// envFiles are the --env-file files of calls, by call index, read
	// when the call was made: paude removes them when podman returns.
	envFiles map[int]seenEnvFile
}

// seenEnvFile is an env file as podman would have found it.
type seenEnvFile struct {
	content       string
	mode, dirMode os.FileMode
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

// fail is an ExitError with a code and stderr, as podman gives them.
func fail(code int, stderr string) error { return &ExitError{Code: code, Stderr: stderr} }

func (f *fakeRunner) match(args []string) *rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	line := strings.Join(args, " ")
	f.calls = append(f.calls, line)
	for i, a := range args {
		if a == "--env-file" && i+1 < len(args) {
			f.readEnvFile(len(f.calls)-1, args[i+1])
		}
	}
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

func (f *fakeRunner) Stream(_ context.Context, args []string, s Streams) error {
	r := f.match(args)
	if s.In != nil && r.in != nil {
		_, _ = io.Copy(r.in, s.In)
	}
	if s.Out != nil {
		_, _ = io.WriteString(s.Out, r.stream)
	}
	return withArgs(r.err, args)
}

func withArgs(err error, args []string) error {
	var ee *ExitError
	if errors.As(err, &ee) {
		c := *ee
		c.Args = args
		return &c
	}
	return err
}

func (f *fakeRunner) readEnvFile(call int, path string) {
	b, err := os.ReadFile(path)
	fi, ferr := os.Stat(path)
	di, derr := os.Stat(filepath.Dir(path))
	if err != nil || ferr != nil || derr != nil {
		f.t.Errorf("call %d names env file %s, which podman could not read: %v %v %v", call, path, err, ferr, derr)
		return
	}
	if f.envFiles == nil {
		f.envFiles = map[int]seenEnvFile{}
	}
	f.envFiles[call] = seenEnvFile{content: string(b), mode: fi.Mode(), dirMode: di.Mode()}
}

// EnvFiles returns the env files the calls named, by call index.
func (f *fakeRunner) EnvFiles() map[int]seenEnvFile {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.envFiles)
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
	b.detect = func(context.Context) (*hostInfo, error) { return &hostInfo{CPUs: 2}, nil }
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
