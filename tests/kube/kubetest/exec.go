package kubetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"
)

// ExecOptions describes one command run in a pod's container.
type ExecOptions struct {
	// Container defaults to the pod's only container.
	Container string
	// Command is the argv to run.
	Command []string
	// Stdin, when set, is streamed to the command.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output; nil discards it.
	// With TTY the terminal's output all arrives on Stdout.
	Stdout, Stderr io.Writer
	// TTY allocates a terminal for the command.
	TTY bool
	// Sizes reports terminal sizes (the first one is the initial size);
	// only used with TTY.
	Sizes remotecommand.TerminalSizeQueue
}

// Exec runs a command in a pod through the API server's exec subresource,
// the way kubectl exec does: WebSocket first, SPDY when the server refuses
// the upgrade. A command that exits non-zero yields an error for which
// ExitCode reports the status.
func (c *Cluster) Exec(ctx context.Context, ns, pod string, opts ExecOptions) error {
	req := c.Client.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: opts.Container,
			Command:   opts.Command,
			Stdin:     opts.Stdin != nil,
			Stdout:    true,
			Stderr:    !opts.TTY,
			TTY:       opts.TTY,
		}, scheme.ParameterCodec)
	spdy, err := remotecommand.NewSPDYExecutor(c.Config, "POST", req.URL())
	if err != nil {
		return fmt.Errorf("failed to create the SPDY executor: %w", err)
	}
	ws, err := remotecommand.NewWebSocketExecutor(c.Config, "GET", req.URL().String())
	if err != nil {
		return fmt.Errorf("failed to create the WebSocket executor: %w", err)
	}
	exec, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return fmt.Errorf("failed to create the exec client: %w", err)
	}
	stdout := opts.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	// A terminal merges both streams into stdout; the stderr stream must be nil.
	var stderr io.Writer
	if !opts.TTY {
		stderr = opts.Stderr
		if stderr == nil {
			stderr = io.Discard
		}
	}
	return exec.StreamWithContext(ctx, remotecommand.StreamOptions{
		Stdin:             opts.Stdin,
		Stdout:            stdout,
		Stderr:            stderr,
		Tty:               opts.TTY,
		TerminalSizeQueue: opts.Sizes,
	})
}

// ExecOutput runs command in pod ns/pod without a terminal and returns its
// standard output and standard error.
func (c *Cluster) ExecOutput(ctx context.Context, ns, pod string, command ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = c.Exec(ctx, ns, pod, ExecOptions{Command: command, Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), err
}

// ExitCode returns the exit status carried by an error from Exec, and false
// when the error is not a command's exit status (a stream or API failure).
func ExitCode(err error) (int, bool) {
	var exit utilexec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitStatus(), true
	}
	return 0, false
}
