package gitboundary

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// hardening is the configuration every host git command paude runs gets
// on its command line, where it outranks every config file. The
// workspace is writable by the agent, so nothing git would run from a path
// the workspace could name may run: hooks (a core.hooksPath such as .husky
// points into the workspace; fetch runs the reference-transaction hook),
// the fsmonitor daemon command, and submodule recursion (which would run
// git in the workspace's submodules with their configuration).
var hardening = []string{
	"-c", "core.hooksPath=/dev/null",
	"-c", "core.fsmonitor=false",
	"-c", "submodule.recurse=false",
	"-c", "fetch.recurseSubmodules=false",
}

// keptGitEnv are the GIT_* variables passed on to host git. Every other
// one is dropped: GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY
// and friends would point git at another repository than the one paude
// resolved, and GIT_CONFIG_PARAMETERS could undo the hardening above.
var keptGitEnv = map[string]bool{
	"GIT_CONFIG_GLOBAL":       true,
	"GIT_CONFIG_SYSTEM":       true,
	"GIT_CONFIG_NOSYSTEM":     true,
	"GIT_EXEC_PATH":           true,
	"GIT_CEILING_DIRECTORIES": true,
	"GIT_TRACE":               true,
	"GIT_TRACE_PACKET":        true,
	"GIT_TRACE2":              true,
}

// hostGitEnv is the environment of host git: the user's, without the
// GIT_* variables above, in the C locale (paude parses some output), never
// prompting, with no transport allowed (GIT_ALLOW_PROTOCOL empty: a lazy
// fetch of a partial clone or a submodule fetch fails instead of reaching
// the network), plus extra ("KEY=value", later entries win).
func hostGitEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") && !keptGitEnv[k] {
			continue
		}
		if k == "LC_ALL" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "LC_ALL=C", "GIT_TERMINAL_PROMPT=0", "GIT_ALLOW_PROTOCOL=")
	return append(env, extra...)
}

// GitError is a host git command that failed. Stderr is what git said,
// made safe to print (Display) and cut to its last lines: it may quote
// the session.
type GitError struct {
	// Args are git's arguments after the hardening options.
	Args []string
	// Stderr is git's diagnostic output, one line per "; ".
	Stderr string
	// Err is the exit status or why git could not run.
	Err error
}

func (e *GitError) Error() string {
	sub := "git"
	for i := 0; i < len(e.Args); i++ {
		if e.Args[i] == "-c" {
			i++
			continue
		}
		sub = "git " + e.Args[i]
		break
	}
	if e.Stderr != "" {
		return fmt.Sprintf("%s failed: %s", sub, e.Stderr)
	}
	return fmt.Sprintf("%s failed: %v", sub, e.Err)
}

func (e *GitError) Unwrap() error { return e.Err }

// gitRun is one host git command.
type gitRun struct {
	// Dir is the directory git runs in.
	Dir string
	// Args are git's arguments (after the hardening).
	Args []string
	// Env is added to hostGitEnv.
	Env []string
	// Stdin feeds git; nil means none.
	Stdin io.Reader
	// MaxStdout stops git (an error) once it printed more; 0 = no limit.
	MaxStdout int64
}

// errTooMuchOutput is returned when git printed more than MaxStdout.
var errTooMuchOutput = errors.New("output too large")

// command is the configured *exec.Cmd, without its output streams.
func (g gitRun) command(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", append(append([]string(nil), hardening...), g.Args...)...)
	cmd.Dir = g.Dir
	cmd.Env = hostGitEnv(g.Env...)
	cmd.Stdin = g.Stdin
	return cmd
}

// run runs the command and returns its standard output.
func (g gitRun) run(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := g.command(ctx)
	var out bytes.Buffer
	var stdout io.Writer = &out
	limited := &limitWriter{w: &out, n: g.MaxStdout, onLimit: cancel}
	if g.MaxStdout > 0 {
		stdout = limited
	}
	stderr := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	if limited.hit {
		err = errTooMuchOutput
	}
	if err != nil {
		return out.Bytes(), g.error(stderr, err)
	}
	return out.Bytes(), nil
}

// error is the *GitError for this command.
func (g gitRun) error(stderr *tailBuffer, err error) error {
	return &GitError{Args: g.Args, Stderr: displayLines(stderr.String(), 4), Err: err}
}

// RunHostGit runs `git args...` on the host in dir with the environment
// and configuration paude uses for its own git commands: no hooks, no
// fsmonitor, no submodule recursion, no GIT_DIR-like variables from the
// caller. The user's configuration otherwise applies. It returns standard
// output; a failure is a *GitError.
func RunHostGit(ctx context.Context, dir string, args ...string) ([]byte, error) {
	return gitRun{Dir: dir, Args: args}.run(ctx)
}

// limitWriter passes at most n bytes, then fails and calls onLimit once.
type limitWriter struct {
	w       io.Writer
	n       int64
	hit     bool
	onLimit func()
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		if !l.hit {
			l.hit = true
			l.onLimit()
		}
		return 0, errTooMuchOutput
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// tailBuffer keeps the last max bytes written to it: git's stderr can be
// long, and the end says what went wrong.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
