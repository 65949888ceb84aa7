package plugin

import (
	"errors"
	"fmt"
	"io"
)

// UsageError is a mistake in how a command was called. It exits 2 and its
// message ends by pointing at the command's help.
type UsageError struct {
	Msg     string
	Command string // "paude attach", used in the help hint
}

func (e *UsageError) Error() string {
	return fmt.Sprintf("%s\nSee '%s -h' for help and examples", e.Msg, e.Command)
}

// ExitError carries a process exit code that is not an error in itself,
// such as the agent's own exit code after an attach.
type ExitError struct {
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode maps the error returned by the root command to the process exit
// code and prints the error, if any, to errOut. It is the only place that
// decides exit codes: 0 success, the agent's own code after attach, 2 for
// usage mistakes, 128+N when signal N interrupted the command, 1 for
// everything else.
func ExitCode(err error, errOut io.Writer) int {
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	_, _ = fmt.Fprintf(errOut, "error: %v\n", err)
	var interrupted *InterruptedError
	if errors.As(err, &interrupted) {
		return interrupted.code()
	}
	var usage *UsageError
	if errors.As(err, &usage) {
		return 2
	}
	return 1
}
