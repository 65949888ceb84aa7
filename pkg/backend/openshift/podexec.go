package openshift

import (
	"context"
	"errors"
	"io"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/klog/v2"

	"github.com/paude-dev/paude/pkg/remote"
)

// podExec runs commands in a session pod's agent container over the pod
// exec subresource, without a terminal: the remote.Executor that workspace
// sync and the git boundary use on a cluster. Every Exec is a connection
// of its own (WebSocket, SPDY when the server or a proxy cannot upgrade,
// as the attach), so sync's two long-lived helper streams and a git fetch
// can run at once. The end of Stdin reaches the command as the end of its
// standard input; cancelling the context ends the stream.
type podExec struct {
	b   *Backend
	c   *Clients
	ns  string
	pod string
}

var _ remote.Executor = podExec{}

// Exec implements remote.Executor.
func (p podExec) Exec(ctx context.Context, cmd remote.Cmd) error {
	if len(cmd.Argv) == 0 {
		return errors.New("no command to run")
	}
	u := podExecURL(p.c, p.ns, p.pod, &corev1.PodExecOptions{
		Container: ContainerName,
		Command:   cmd.Argv,
		Stdin:     cmd.Stdin != nil,
		Stdout:    true,
		Stderr:    true,
		TTY:       false,
	})
	// The exec protocol needs somewhere to copy each stream it asked for.
	stdout, stderr := cmd.Stdout, cmd.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	err := p.b.opts.Executor.Stream(quietStreams(ctx), p.c.Config, u, remotecommand.StreamOptions{
		Stdin: cmd.Stdin, Stdout: stdout, Stderr: stderr,
	})
	if err == nil {
		return nil
	}
	var exit utilexec.ExitError
	if errors.As(err, &exit) && exit.Exited() {
		return &remote.ExitError{Argv: cmd.Argv, Code: exit.ExitStatus()}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return p.b.apiError(err, "run a command in", "pod "+p.pod, p.ns)
}

// quietStreams keeps client-go's stream teardown logs off the user's
// terminal: it logs the end of a stream the other side closed first (a
// helper that exited, a connection that dropped) as errors, which only
// -v 4 and above shows. The error itself still reaches the caller.
func quietStreams(ctx context.Context) context.Context {
	if klog.V(4).Enabled() {
		return ctx
	}
	return klog.NewContext(ctx, logr.Discard())
}
