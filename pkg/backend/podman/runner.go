package podman

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
)

// Runner runs the podman CLI. Every podman call of the backend goes through
// it, so tests replace it with a fake that records the exact argv.
type Runner interface {
	// Run runs podman with args and returns what it printed on stdout. A
	// non-zero exit is returned as an *ExitError carrying stderr.
	Run(ctx context.Context, args []string) ([]byte, error)
	// Stream runs podman with args connected to the given streams (build
	// output, an interactive attach). A non-zero exit is an *ExitError
	// whose Stderr is empty, as stderr went to the stream.
	// A nil In means no input; nil writers discard the output.
	Stream(ctx context.Context, args []string, streams genericiooptions.IOStreams) error
}

// loggingRunner logs every podman command, its duration and its exit
// code at verbosity 4 (-v 4), with build argument values hidden as in a
// dry run; and it words a missing podman as the UnavailableError it is,
// whichever command found out.
type loggingRunner struct{ Runner }

func (l loggingRunner) Run(ctx context.Context, args []string) ([]byte, error) {
	start := time.Now()
	out, err := l.Runner.Run(ctx, args)
	logCommand(args, start, err)
	return out, missingPodman(err)
}

func (l loggingRunner) Stream(ctx context.Context, args []string, streams genericiooptions.IOStreams) error {
	start := time.Now()
	err := l.Runner.Stream(ctx, args, streams)
	logCommand(args, start, err)
	return missingPodman(err)
}

// missingPodman turns ErrPodmanNotFound into an UnavailableError that
// says how to install podman.
func missingPodman(err error) error {
	if errors.Is(err, ErrPodmanNotFound) {
		return unavailable(err)
	}
	return err
}

func logCommand(args []string, start time.Time, err error) {
	if !klog.V(4).Enabled() {
		return
	}
	status := "ok"
	if err != nil {
		status = err.Error()
		if code, ok := exitCode(err); ok {
			status = fmt.Sprintf("exit code %d", code)
		}
	}
	klog.V(4).Infof("podman %s (%s, %s)", shellWords(redactArgs(args)), time.Since(start).Round(time.Millisecond), status)
}

// ExitError is a podman command that ran and exited non-zero.
type ExitError struct {
	// Args are the arguments podman was called with.
	Args []string
	// Code is podman's exit code.
	Code int
	// Stderr is what podman printed on stderr, trimmed ("" when streamed).
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("podman %s exited with code %d", firstArgs(e.Args), e.Code)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// firstArgs names a command by its leading words ("create", "network
// create"), never by values that could be long or secret.
func firstArgs(args []string) string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") || len(words) == 2 {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// exitCode returns the exit code carried by err, and whether it had one.
func exitCode(err error) (int, bool) {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code, true
	}
	return 0, false
}

// ExecRunner runs the podman binary as a child process.
type ExecRunner struct {
	// Path is the podman binary; "" looks "podman" up on PATH at each call.
	Path string
	// ContainersConf, when set, is exported as CONTAINERS_CONF to podman.
	// When empty, podman inherits CONTAINERS_CONF from this process.
	ContainersConf string
}

// ErrPodmanNotFound is returned by ExecRunner when there is no podman
// binary to run.
var ErrPodmanNotFound = errors.New("podman not found")

// command builds the exec.Cmd for args. A cancelled context sends SIGTERM
// first, so podman can restore the terminal of an interactive exec.
func (r ExecRunner) command(ctx context.Context, args []string) (*exec.Cmd, error) {
	path := r.Path
	if path == "" {
		path = "podman"
	}
	resolved, err := exec.LookPath(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrPodmanNotFound, path, err)
	}
	cmd := exec.CommandContext(ctx, resolved, args...)
	cmd.Env = r.environ()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd, nil
}

// environ is this process's environment with CONTAINERS_CONF set when the
// runner names one.
func (r ExecRunner) environ() []string {
	env := os.Environ()
	if r.ContainersConf == "" {
		return env
	}
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "CONTAINERS_CONF=") {
			out = append(out, kv)
		}
	}
	return append(out, "CONTAINERS_CONF="+r.ContainersConf)
}

// Run implements Runner.
func (r ExecRunner) Run(ctx context.Context, args []string) ([]byte, error) {
	cmd, err := r.command(ctx, args)
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), exitErr(args, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Stream implements Runner. An *os.File stream (a terminal) is handed to
// podman as is, so `exec -it` sees the real terminal.
func (r ExecRunner) Stream(ctx context.Context, args []string, s genericiooptions.IOStreams) error {
	cmd, err := r.command(ctx, args)
	if err != nil {
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.In, s.Out, s.ErrOut
	if err := cmd.Run(); err != nil {
		return exitErr(args, err, "")
	}
	return nil
}

// exitErr turns an exec error into an *ExitError when podman ran.
func exitErr(args []string, err error, stderr string) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if code < 0 {
			// Killed by a signal: report it the way a shell would.
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
		return &ExitError{Args: args, Code: code, Stderr: stderr}
	}
	return fmt.Errorf("failed to run podman %s: %w", firstArgs(args), err)
}
