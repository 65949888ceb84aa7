// Package remotetest provides a remote.Executor that runs commands on this
// machine, for tests of code that talks to a session: a directory stands in
// for the container.
package remotetest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"

	"github.com/paude-dev/paude/pkg/remote"
)

// Local runs each command as a child process of the test.
type Local struct {
	// Dir is the working directory of every command ("" = the test's).
	Dir string
	// Env, when not nil, replaces the environment of every command.
	Env []string
	// Calls records the argv of every command run, in order.
	Calls [][]string

	// mu guards Calls: sync runs several long-lived commands at once.
	mu sync.Mutex
}

var _ remote.Executor = (*Local)(nil)

// Exec implements remote.Executor.
func (l *Local) Exec(ctx context.Context, cmd remote.Cmd) error {
	l.mu.Lock()
	l.Calls = append(l.Calls, append([]string(nil), cmd.Argv...))
	l.mu.Unlock()
	if len(cmd.Argv) == 0 {
		return errors.New("no command to run")
	}
	c := exec.CommandContext(ctx, cmd.Argv[0], cmd.Argv[1:]...)
	c.Dir = l.Dir
	if l.Env != nil {
		c.Env = l.Env
	} else {
		c.Env = os.Environ()
	}
	c.Stdin, c.Stdout, c.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return &remote.ExitError{Argv: cmd.Argv, Code: ee.ExitCode()}
	}
	return err
}
