// Package podmancli is how paude runs the podman command line: a Runner
// seam that tests replace with a recorder, the real runner, podman's exit
// errors, and the image builds both backends share (a cluster session's
// images are built locally with podman too, then pushed).
package podmancli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// Logged returns r logging every podman command, its duration and its
// exit code at verbosity 4 (-v 4), with secret values hidden (Redact).
// wrap, when not nil, rewords each error (a missing podman, say) as the
// caller's users need it.
func Logged(r Runner, wrap func(error) error) Runner {
	if wrap == nil {
		wrap = func(err error) error { return err }
	}
	return loggingRunner{r, wrap}
}

type loggingRunner struct {
	Runner
	wrap func(error) error
}

func (l loggingRunner) Run(ctx context.Context, args []string) ([]byte, error) {
	start := time.Now()
	out, err := l.Runner.Run(ctx, args)
	logCommand(args, start, err)
	return out, l.wrap(err)
}

func (l loggingRunner) Stream(ctx context.Context, args []string, streams genericiooptions.IOStreams) error {
	start := time.Now()
	err := l.Runner.Stream(ctx, args, streams)
	logCommand(args, start, err)
	return l.wrap(err)
}

func logCommand(args []string, start time.Time, err error) {
	if !klog.V(4).Enabled() {
		return
	}
	status := "ok"
	if err != nil {
		status = err.Error()
		if code, ok := ExitCode(err); ok {
			status = fmt.Sprintf("exit code %d", code)
		}
	}
	klog.V(4).Infof("podman %s (%s, %s)", ShellWords(Redact(args)), time.Since(start).Round(time.Millisecond), status)
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
	msg := fmt.Sprintf("podman %s exited with code %d", FirstArgs(e.Args), e.Code)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// FirstArgs names a command by its leading words ("create", "network
// create"), never by values that could be long or secret.
func FirstArgs(args []string) string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") || len(words) == 2 {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// ExitCode returns the exit code carried by err, and whether it had one.
func ExitCode(err error) (int, bool) {
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

// macInstallDirs are where podman's macOS installers put the podman
// command: Homebrew on Apple silicon and on Intel, and podman.io's
// installer (also Podman Desktop's).
var macInstallDirs = []string{"/opt/homebrew/bin", "/usr/local/bin", "/opt/podman/bin"}

// findPodman looks name up on PATH and, on macOS, then in dirs: a
// program started from the Dock or an editor, or a shell older than the
// install, may have a PATH without them.
func findPodman(name, goos string, dirs []string) (string, error) {
	resolved, err := exec.LookPath(name)
	if err == nil || goos != "darwin" || strings.Contains(name, "/") {
		return resolved, err
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, statErr := os.Stat(p); statErr == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", err
}

// command builds the exec.Cmd for args. A cancelled context sends SIGTERM
// first, so podman can restore the terminal of an interactive exec.
func (r ExecRunner) command(ctx context.Context, args []string) (*exec.Cmd, error) {
	path := r.Path
	if path == "" {
		path = "podman"
	}
	resolved, err := findPodman(path, runtime.GOOS, macInstallDirs)
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
	if err := cmd.Start(); err != nil {
		return exitErr(args, err, "")
	}
	if started, ok := ctx.Value(startedKey{}).(func(int)); ok {
		started(cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		return exitErr(args, err, "")
	}
	return nil
}

type startedKey struct{}

// WithStarted returns ctx carrying started, which ExecRunner.Stream calls
// with podman's PID as soon as it runs: a push's progress reads what the
// process has sent.
func WithStarted(ctx context.Context, started func(pid int)) context.Context {
	return context.WithValue(ctx, startedKey{}, started)
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
	return fmt.Errorf("failed to run podman %s: %w", FirstArgs(args), err)
}

// Stderr is what podman printed on stderr for a failed command, "" when
// err is no *ExitError.
func Stderr(err error) string {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return ""
}

// Redact is argv as paude shows it (dry runs, -v): the value of every
// --build-arg is hidden, since build arguments may carry host secrets
// (${localEnv:...}). Nothing else paude passes on a command line is
// secret: env values travel in files, tokens on stdin.
func Redact(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if i > 0 && args[i-1] == "--build-arg" {
			if k, _, ok := strings.Cut(a, "="); ok {
				out[i] = k + "=<hidden>"
			}
		}
	}
	return out
}

// ShellWords joins argv for display, quoting what a shell would split.
func ShellWords(args []string) string {
	words := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, needsQuote) < 0 {
			words[i] = a
			continue
		}
		words[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(words, " ")
}

// needsQuote reports a rune a shell would treat specially (placeholders'
// angle brackets and $TERM stay readable: the output is for people).
func needsQuote(r rune) bool {
	plain := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("-_./:=,@%+<>$", r)
	return !plain
}
