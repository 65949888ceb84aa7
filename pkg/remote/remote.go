// Package remote is how paude runs a program inside a session without a
// terminal: one command and its standard streams, over `podman exec -i`
// locally or the pod exec subresource on a cluster. Workspace sync and
// the git boundary need nothing else from a backend, so they take an
// Executor and import no backend; each backend provides one.
package remote

import (
	"context"
	"fmt"
	"io"
)

// Cmd is one command to run in a session's agent container.
type Cmd struct {
	// Argv is the program and its arguments; Argv[0] is looked up in the
	// container's PATH.
	Argv []string
	// Stdin feeds the command's standard input; nil means none (the
	// command reads end of file at once).
	Stdin io.Reader
	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout io.Writer
	Stderr io.Writer
}

// Executor runs commands in one session's agent container, as the agent's
// user, without a TTY.
type Executor interface {
	// Exec runs cmd and copies its streams until it ends. It returns nil
	// when the command exited 0, an *ExitError when it ran and exited
	// with another code, and any other error when it could not be run or
	// the connection broke. Cancelling ctx ends the command.
	Exec(ctx context.Context, cmd Cmd) error
}

// ExitError is a command that ran in the session and exited non-zero.
type ExitError struct {
	// Argv is the command that ran.
	Argv []string
	// Code is its exit code.
	Code int
}

func (e *ExitError) Error() string {
	name := "command"
	if len(e.Argv) > 0 {
		name = e.Argv[0]
	}
	return fmt.Sprintf("%s exited with code %d in the session", name, e.Code)
}
