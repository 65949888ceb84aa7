package podman

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/podmancli"
)

// AttachSession implements backend.Backend. It connects the terminal to
// the session's tmux through `podman exec -it`, which puts the terminal in
// raw mode, forwards resizes and restores it on exit; inside,
// `tmux attach -d` first detaches a stale client left by a killed
// terminal. It returns the agent's exit code when the agent ended while
// attached, 0 when the user detached (C-b d).
//
// A stopped session is started again first (its container, workspace and
// copied credentials are still there). An empty id means the most recent
// session. Without a terminal on In there is nothing to attach: the
// session's current screen is printed instead. When attach ends (the user
// detached, or the agent exited), the session's commits are fetched and
// the host-run files it changed are reported on ErrOut (review).
func (b *Backend) AttachSession(ctx context.Context, id string, streams genericiooptions.IOStreams) (int, error) {
	if id == "" {
		latest, err := b.latest(ctx)
		if err != nil {
			return 1, err
		}
		id = latest
	}
	c, err := b.session(ctx, id)
	if err != nil {
		return 1, err
	}
	name := containerName(id)
	if !c.State.Running {
		if err := b.restart(ctx, id, c); err != nil {
			return 1, err
		}
	}
	code, err := b.attach(ctx, id, name, streams)
	if err != nil {
		return code, err
	}
	// Detached, or the agent ended: what it did goes to the user now.
	// A failed fetch is reported and does not change the exit code.
	c, ierr := b.inspect(ctx, name)
	if ierr == nil && c != nil {
		_ = b.review(ctx, id, c, errOut(streams))
	}
	return code, nil
}

// attach connects the streams to the session's tmux, or prints its
// screen without a terminal.
func (b *Backend) attach(ctx context.Context, id, name string, streams genericiooptions.IOStreams) (int, error) {
	if !isTerminal(streams.In) {
		return b.printScreen(ctx, name, streams)
	}
	// podman takes raw mode and the window size from the terminal on In;
	// what comes back is filtered before it reaches the user's terminal.
	err := b.runner.Stream(ctx, attachArgs(name, b.opts.Getenv("TERM")), genericiooptions.IOStreams{
		In:     streams.In,
		Out:    backend.AttachFilter(streams.Out, b.opts.Getenv),
		ErrOut: backend.AttachFilter(streams.ErrOut, b.opts.Getenv),
	})
	if err == nil {
		return 0, nil
	}
	if code, ok := podmancli.ExitCode(err); ok {
		return code, nil
	}
	return 1, fmt.Errorf("failed to attach to session %s: %w", id, err)
}

// errOut is where attach reports: the streams' diagnostics, or the
// backend's progress without them.
func errOut(s genericiooptions.IOStreams) io.Writer {
	if s.ErrOut != nil {
		return s.ErrOut
	}
	return io.Discard
}

// latest is the most recent session's ID.
func (b *Backend) latest(ctx context.Context) (string, error) {
	sessions, err := b.ListSessions(ctx)
	if err != nil {
		return "", err
	}
	if len(sessions) == 0 {
		return "", &backend.NotFoundError{Command: b.opts.Command}
	}
	return sessions[0].ID, nil
}

// restart starts a stopped session's container again, and the proxy it
// depends on when that was stopped too (after a reboot, say).
func (b *Backend) restart(ctx context.Context, id string, c *containerInfo) error {
	fmt.Fprintf(b.opts.Progress, "Session %s is %s; starting it again\n", id, c.State.Status)
	if hash := c.Config.Labels[backend.LabelProxyConfig]; c.Config.Labels[backend.LabelNetworkMode] == backend.NetworkProxy {
		proxy := proxyName(hash)
		p, err := b.inspect(ctx, proxy)
		if err != nil {
			return err
		}
		switch {
		case hash == "" || p == nil:
			return fmt.Errorf("session %s needs its proxy, which was removed: start a new session with %s (and remove this one with %s)", id, b.hint(""), b.hint("stop "+id))
		case !p.State.Running:
			if _, err := b.runner.Run(ctx, startArgs(proxy)); err != nil {
				return fmt.Errorf("failed to start proxy %s again: %w", proxy, err)
			}
			if err := b.waitProxy(ctx, proxy); err != nil {
				return err
			}
		}
	}
	name := containerName(id)
	if _, err := b.runner.Run(ctx, startArgs(name)); err != nil {
		return fmt.Errorf("failed to start session %s again: %w", id, err)
	}
	return b.waitAgent(ctx, name)
}

// printScreen is attach without a terminal: the current screen on Out.
func (b *Backend) printScreen(ctx context.Context, name string, streams genericiooptions.IOStreams) (int, error) {
	out, err := b.runner.Run(ctx, captureArgs(name))
	if err != nil {
		return 1, fmt.Errorf("failed to read the session's screen: %w", err)
	}
	if streams.ErrOut != nil {
		fmt.Fprintf(streams.ErrOut, "Not a terminal: printing the screen of %s; run %s in a terminal to interact\n", name, b.hint("attach"))
	}
	if streams.Out != nil {
		// The screen is the agent's to draw, and it may draw escapes.
		if _, err := backend.AttachFilter(streams.Out, b.opts.Getenv).Write(out); err != nil {
			return 1, fmt.Errorf("failed to print the session's screen: %w", err)
		}
	}
	return 0, nil
}

// isTerminal reports whether r is a terminal device (a variable, so that
// tests can attach without one).
var isTerminal = func(r any) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
