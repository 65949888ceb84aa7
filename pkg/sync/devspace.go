package sync

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"syscall"
	"time"
)

// DevSpace runs the DevSpace CLI's `devspace sync` against the session
// pod. DevSpace brings its own helper into the pod and checks nothing that
// comes back the way paude's native engine does (package guard); paude
// passes it the same excludes, .git always among them.
type DevSpace struct {
	opts     Options
	lookPath func(string) (string, error)
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace time.Duration

	mu       stdsync.Mutex
	status   Status
	cmd      *exec.Cmd
	exited   chan struct{}
	exitErr  error
	stopping bool
	initial  chan struct{}
	lines    []string
}

// NewDevSpace returns a DevSpace syncer; nothing runs until Start or Once.
func NewDevSpace(o Options) (*DevSpace, error) {
	if o.LocalRoot == "" || o.RemoteRoot == "" {
		return nil, errors.New("devspace sync needs a local and a session workspace path")
	}
	if o.DevSpace.Pod == "" {
		return nil, errors.New("devspace sync needs the session's pod name")
	}
	if o.Excludes == nil {
		o.Excludes = DefaultExcludes()
	}
	return &DevSpace{
		opts: o, lookPath: exec.LookPath, stopGrace: 5 * time.Second,
		status: Status{Engine: EngineDevSpace, State: StateIdle, Pending: -1},
	}, nil
}

// Engine implements Syncer.
func (d *DevSpace) Engine() string { return EngineDevSpace }

func (d *DevSpace) binary() string {
	if d.opts.DevSpace.Binary != "" {
		return d.opts.DevSpace.Binary
	}
	return "devspace"
}

// Available implements Syncer: the devspace CLI must be on PATH.
func (d *DevSpace) Available() error {
	if _, err := d.lookPath(d.binary()); err != nil {
		return &UnavailableError{Engine: EngineDevSpace, Reason: fmt.Sprintf("the %s CLI is not on PATH: install DevSpace or set sync.method to native", d.binary())}
	}
	return nil
}

// Args is the devspace command line (without the binary): the task
// list's flags for DevSpace 6 (`--path` maps the local directory to the
// pod's), every exclude with .git first, local files winning the initial
// sync, and the kubectl connection settings paude was given.
func (d *DevSpace) Args(once bool) []string {
	t := d.opts.DevSpace
	args := []string{"sync", "--path=" + d.opts.LocalRoot + ":" + d.opts.RemoteRoot, "--pod=" + t.Pod}
	for _, f := range []struct{ name, value string }{
		{"container", t.Container}, {"namespace", t.Namespace}, {"kube-context", t.KubeContext}, {"kubeconfig", t.Kubeconfig},
	} {
		if f.value != "" {
			args = append(args, "--"+f.name+"="+f.value)
		}
	}
	excludes := append([]string{".git"}, d.opts.Excludes...)
	for _, p := range excludes {
		args = append(args, "--exclude="+csvField(p))
	}
	args = append(args, "--initial-sync=preferLocal", "--pick=false", "--no-warn", "--no-colors")
	if once {
		args = append(args, "--no-watch")
	}
	return args
}

// csvField quotes a pattern for a pflag string slice, which splits its
// value as CSV: a comma would otherwise cut a pattern in two.
func csvField(s string) string {
	if !strings.ContainsAny(s, ",\"") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Start implements Syncer: it runs `devspace sync` and returns once
// DevSpace reports the initial sync done.
func (d *DevSpace) Start(ctx context.Context) error {
	if err := d.run(false); err != nil {
		return err
	}
	select {
	case <-d.initial:
		return nil
	case <-d.exited:
		return d.failure("devspace sync ended before the initial sync completed")
	case <-ctx.Done():
		_ = d.Stop(context.Background())
		return ctx.Err()
	}
}

// Once implements Syncer: `devspace sync --no-watch`.
func (d *DevSpace) Once(ctx context.Context) error {
	if err := d.run(true); err != nil {
		return err
	}
	select {
	case <-d.exited:
	case <-ctx.Done():
		_ = d.Stop(context.Background())
		return ctx.Err()
	}
	d.mu.Lock()
	err := d.exitErr
	d.mu.Unlock()
	if err != nil {
		return d.failure("devspace sync --no-watch failed")
	}
	d.setState(StateStopped, "")
	return nil
}

// Flush implements Syncer. DevSpace uploads changes as it sees them and
// has no way to ask for "now and tell me when done".
func (d *DevSpace) Flush(context.Context) error {
	return errors.New("devspace syncs changes as they happen and cannot be flushed on demand: set sync.method to native for flush")
}

// Stop implements Syncer: SIGTERM to DevSpace's whole process group (it
// starts port-forward and helper processes), SIGKILL after a grace period
// or when ctx ends.
func (d *DevSpace) Stop(ctx context.Context) error {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.stopping = true
	d.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(d.stopGrace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
	case <-ctx.Done():
	}
	// Whatever is left of the group goes now, children included.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-exited
	d.setState(StateStopped, "")
	return nil
}

// Status implements Syncer.
func (d *DevSpace) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.status
	s.Warnings = slices.Clone(s.Warnings)
	return s
}

func (d *DevSpace) run(once bool) error {
	if err := d.Available(); err != nil {
		return err
	}
	d.mu.Lock()
	if d.cmd != nil {
		d.mu.Unlock()
		return errors.New("devspace sync is already running for this session")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		d.mu.Unlock()
		return err
	}
	cmd := exec.Command(d.binary(), d.Args(once)...) //nolint:gosec // the binary and arguments are paude's own
	cmd.Dir = d.opts.LocalRoot
	// A pipe file, not a writer: Wait then does not wait for children
	// that keep the output open.
	cmd.Stdout, cmd.Stderr = pw, pw
	// Its own process group, so that Stop reaches DevSpace's children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d.cmd, d.exited, d.initial = cmd, make(chan struct{}), make(chan struct{})
	d.status.State = StateInitialSync
	d.mu.Unlock()
	err = cmd.Start()
	_ = pw.Close()
	if err != nil {
		_ = pr.Close()
		d.mu.Lock()
		d.cmd = nil
		d.mu.Unlock()
		return fmt.Errorf("failed to run %s: %w", d.binary(), err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer func() { _ = pr.Close() }()
		d.readOutput(pr)
	}()
	go func() {
		err := cmd.Wait()
		// DevSpace is gone; what it started goes too.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-readDone:
		case <-time.After(2 * time.Second):
		}
		d.mu.Lock()
		d.exitErr = err
		if !d.stopping && d.status.State != StateStopped {
			d.status.State = StateFailed
			if err == nil && !once {
				err = errors.New("devspace sync exited")
			}
			if err != nil {
				d.status.Err = err.Error()
			}
		}
		d.mu.Unlock()
		close(d.exited)
	}()
	return nil
}

// failure builds an error from DevSpace's last lines of output.
func (d *DevSpace) failure(what string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	tail := strings.Join(d.lines, "\n  ")
	if d.exitErr != nil {
		what += " (" + d.exitErr.Error() + ")"
	}
	if tail == "" {
		return errors.New(what)
	}
	return fmt.Errorf("%s; its last output:\n  %s", what, tail)
}

func (d *DevSpace) setState(s State, err string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status.State = s
	d.status.Err = err
}

var (
	ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	uploadLine = regexp.MustCompile(`Upstream - Upload (\d+) create change\(s\) \(Uncompressed ~([0-9.]+) KB\)`)
	downLine   = regexp.MustCompile(`Downstream - Download (\d+) file\(s\) \(Uncompressed: ~([0-9.]+) KB\)`)
)

// readOutput follows DevSpace's log to know its state. These are the
// messages DevSpace 6 prints; anything else is kept only as context for
// errors.
func (d *DevSpace) readOutput(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	closedInitial := false
	for sc.Scan() {
		line := strings.TrimSpace(ansiEscape.ReplaceAllString(sc.Text(), ""))
		if line == "" {
			continue
		}
		d.mu.Lock()
		d.lines = append(d.lines, line)
		if len(d.lines) > 10 {
			d.lines = d.lines[len(d.lines)-10:]
		}
		now := time.Now()
		switch {
		case strings.Contains(line, "Sync Error on"), strings.Contains(line, "[fatal]"), strings.HasPrefix(line, "fatal"), strings.HasPrefix(line, "error"):
			d.status.Err = line
		case strings.Contains(line, "Restarted because"):
			d.status.State = StateReconnecting
			d.status.Err = line
		case strings.Contains(line, "Initial sync completed") && !strings.Contains(line, "stream - "):
			// "Upstream - Initial sync completed" is one direction; the
			// bare message is both.
			d.status.State = StateWatching
			d.status.LastSync = now
			d.status.Err = ""
			if !closedInitial {
				closedInitial = true
				close(d.initial)
			}
		case strings.Contains(line, "Successfully processed"):
			d.status.LastSync = now
			if d.status.State == StateReconnecting {
				d.status.State = StateWatching
			}
		}
		progress := d.opts.Progress
		d.mu.Unlock()
		if progress != nil {
			if m := uploadLine.FindStringSubmatch(line); m != nil {
				progress(progressFrom("push", m))
			} else if m := downLine.FindStringSubmatch(line); m != nil {
				progress(progressFrom("pull", m))
			}
		}
	}
}

func progressFrom(phase string, m []string) Progress {
	n, _ := strconv.ParseInt(m[1], 10, 64)
	kb, _ := strconv.ParseFloat(m[2], 64)
	return Progress{Phase: phase, Files: n, TotalFiles: n, Bytes: int64(kb * 1024), TotalBytes: int64(kb * 1024)}
}
