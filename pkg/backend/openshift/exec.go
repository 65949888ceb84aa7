package openshift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/kubectl/pkg/util/interrupt"
	"k8s.io/kubectl/pkg/util/term"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/paude-dev/paude/pkg/backend"
)

// Executor streams a command running in a container. The default is
// StreamExecutor; tests capture the request instead.
type Executor interface {
	Stream(ctx context.Context, config *rest.Config, u *url.URL, opts remotecommand.StreamOptions) error
}

// StreamExecutor speaks the exec protocol over WebSocket and falls back
// to SPDY when the server or a proxy cannot upgrade to WebSocket.
type StreamExecutor struct{}

// Stream runs the exec request at u and copies the streams.
func (StreamExecutor) Stream(ctx context.Context, config *rest.Config, u *url.URL, opts remotecommand.StreamOptions) error {
	spdy, err := remotecommand.NewSPDYExecutor(config, "POST", u)
	if err != nil {
		return fmt.Errorf("failed to create the SPDY executor: %w", err)
	}
	// RFC 6455 requires GET for the WebSocket handshake.
	ws, err := remotecommand.NewWebSocketExecutor(config, "GET", u.String())
	if err != nil {
		return fmt.Errorf("failed to create the WebSocket executor: %w", err)
	}
	exec, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return fmt.Errorf("failed to create the exec client: %w", err)
	}
	return exec.StreamWithContext(ctx, opts)
}

// AttachCommand is what attach runs in the agent container: the
// entrypoint's attach mode, i.e. `tmux attach -d -t claude`, creating the
// session when it is missing, exiting with the agent's code when the
// agent has ended and 0 on detach.
var AttachCommand = []string{EntrypointPath, "attach"}

// execURL builds the exec subresource URL of a terminal command (the
// attach) from the core REST client.
func execURL(c *Clients, ns, pod string, command []string, stdin bool) *url.URL {
	return podExecURL(c, ns, pod, &corev1.PodExecOptions{
		Container: ContainerName,
		Command:   command,
		Stdin:     stdin,
		Stdout:    true,
		// With a TTY the remote side merges stderr into stdout.
		Stderr: false,
		TTY:    true,
	})
}

// podExecURL builds the URL of an exec request in a pod.
func podExecURL(c *Clients, ns, pod string, opts *corev1.PodExecOptions) *url.URL {
	return c.CoreREST.Post().
		Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(opts, scheme.ParameterCodec).
		URL()
}

// sizeQueue adapts kubectl's terminal size queue to remotecommand's.
type sizeQueue struct{ q term.TerminalSizeQueue }

// Next returns the next terminal size, nil when monitoring stops.
func (s sizeQueue) Next() *remotecommand.TerminalSize {
	size := s.q.Next()
	if size == nil {
		return nil
	}
	return &remotecommand.TerminalSize{Width: size.Width, Height: size.Height}
}

// attachTerminal runs the attach command in the pod with the user's
// terminal in raw mode and resizes forwarded. The terminal is restored
// however the attach ends, including on SIGTERM or SIGHUP, which end the
// attach instead of the process. When the input is not a terminal it
// warns and streams without raw mode; the remote side still gets a TTY
// because tmux needs one.
func (b *Backend) attachTerminal(ctx context.Context, c *Clients, ns, pod string, streams genericiooptions.IOStreams) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var signalled atomic.Value
	t := term.TTY{
		In:  streams.In,
		Out: streams.Out,
		Raw: true,
		Parent: interrupt.New(func(s os.Signal) {
			signalled.Store(s.String())
			cancel()
		}),
	}
	var in io.Reader
	var sizes remotecommand.TerminalSizeQueue
	if streams.In != nil {
		in = streams.In
		if t.IsTerminalIn() {
			if q := t.MonitorSize(t.GetSize()); q != nil {
				sizes = sizeQueue{q}
			}
		} else {
			fmt.Fprintln(b.opts.Warnings, "Warning: input is not a terminal: attaching without raw mode or resize")
		}
	}
	u := execURL(c, ns, pod, AttachCommand, in != nil)
	// A connection that drops after the session's screen came is a lost
	// connection, not a failure to attach: the session runs on.
	out := &firstWrite{w: backend.AttachFilter(streams.Out, b.opts.Getenv)}
	err := t.Safe(func() error {
		return b.opts.Executor.Stream(quietStreams(ctx), c.Config, u, remotecommand.StreamOptions{
			Stdin: in,
			// The agent owns the tmux server: what it sends is filtered
			// before it reaches the terminal. t keeps the real terminal,
			// which raw mode needs.
			Stdout:            out,
			Tty:               true,
			TerminalSizeQueue: sizes,
		})
	})
	var exitErr utilexec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exitErr) && exitErr.Exited():
		return exitErr.ExitStatus(), nil
	case signalled.Load() != nil:
		return 1, fmt.Errorf("attach to pod %s ended by signal %s: the session keeps running: %s reconnects", pod, signalled.Load(), b.hint("attach"))
	case out.wrote.Load():
		id := strings.TrimPrefix(pod, "paude-")
		return 1, fmt.Errorf("lost the connection to session %s (%v): the session keeps running; %s reconnects to it", id, firstLine(err.Error()), b.hint("attach "+id))
	}
	return 1, b.apiError(err, "attach to", "pod "+pod, ns)
}

// firstWrite passes writes through and records that one happened.
type firstWrite struct {
	w     io.Writer
	wrote atomic.Bool
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.wrote.Store(true)
	if f.w == nil {
		return len(p), nil
	}
	return f.w.Write(p)
}
