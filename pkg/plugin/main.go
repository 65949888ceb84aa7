package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// InterruptedError is a command ended early by a signal. It exits
// 128+N, as a shell reports a process killed by signal N, after printing
// what the command was doing when the signal came.
type InterruptedError struct {
	Signal os.Signal
	// Err is what the command returned once its context was cancelled.
	Err error
}

func (e *InterruptedError) Error() string {
	// A bare "context canceled" says nothing the signal does not.
	if e.Err == nil || e.Err.Error() == context.Canceled.Error() {
		return fmt.Sprintf("interrupted by %s", signalName(e.Signal))
	}
	return fmt.Sprintf("interrupted by %s: %v", signalName(e.Signal), e.Err)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// code is 128+N for signal N.
func (e *InterruptedError) code() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// Main runs the command line for one of the binaries and returns the
// process exit code. SIGINT, SIGTERM and SIGHUP cancel the command's
// context instead of killing the process, so a start that is building or
// creating things removes what it created, files holding secrets are
// deleted and the terminal is restored; a second signal kills the process
// at once.
// argv is the whole command line, the program first: the name the binary
// was invoked as decides how help and hints spell the command (see
// Flavor.InvokedAs).
func Main(streams genericiooptions.IOStreams, flavor Flavor, argv []string) int {
	if len(argv) == 0 {
		argv = []string{flavor.Binary}
	}
	return run(NewRootOptions(streams, flavor.InvokedAs(argv[0])), argv[1:])
}

// run is Main for given root options.
func run(root *RootOptions, args []string) int {
	ctx, stop := signalContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	cmd := NewRootCmdWithOptions(root)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	var sig *InterruptedError
	if err != nil && errors.As(context.Cause(ctx), &sig) {
		err = &InterruptedError{Signal: sig.Signal, Err: err}
	}
	return ExitCode(err, root.Streams.ErrOut)
}

// signalContext returns a context cancelled, with an *InterruptedError
// as its cause, by the first of sigs; after that the signals have their
// default effect again. stop releases the signal handler.
func signalContext(parent context.Context, sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(&InterruptedError{Signal: s})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}
