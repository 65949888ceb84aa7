package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdsync "sync"

	"github.com/paude-dev/paude/pkg/remote"
	"github.com/paude-dev/paude/pkg/sync/agent"
	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// stream is one long-lived exec of the helper: its stdin as a wire.Writer,
// its stdout as a wire.Reader.
type stream struct {
	mode   string
	w      *wire.Writer
	r      *wire.Reader
	stdin  *io.PipeWriter
	stderr *tailBuffer
	// exited is closed when the exec returned; exitErr is what it
	// returned (io.EOF for a clean exit).
	exited  chan struct{}
	exitErr error
}

// tailBuffer keeps the last few KiB a helper wrote to stderr, for errors.
type tailBuffer struct {
	mu  stdsync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// dial starts `<helper> __sync-agent <mode>` in the session and exchanges
// hellos. The exec ends when ctx is cancelled or stdin is closed.
func dial(ctx context.Context, ex remote.Executor, helper, mode string, cfg agent.Config) (*stream, agent.Reply, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &stream{mode: mode, stdin: inW, stderr: &tailBuffer{}, exited: make(chan struct{})}
	argv := []string{helper, agent.Command, mode}
	go func() {
		err := ex.Exec(ctx, remote.Cmd{Argv: argv, Stdin: inR, Stdout: outW, Stderr: s.stderr})
		if err == nil {
			err = io.EOF
		}
		s.exitErr = err
		close(s.exited)
		_ = outW.CloseWithError(err)
		_ = inR.CloseWithError(err)
	}()
	s.w, s.r = wire.NewWriter(inW), wire.NewReader(outR)
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, agent.Reply{}, err
	}
	fail := func(err error) (*stream, agent.Reply, error) {
		s.close()
		return nil, agent.Reply{}, s.explain(err)
	}
	if err := s.w.Hello(wire.Hello{Version: wire.Version, Config: b}); err != nil {
		return fail(err)
	}
	if err := s.w.Flush(); err != nil {
		return fail(err)
	}
	p, err := s.r.Expect(wire.FrameHello)
	if err != nil {
		return fail(err)
	}
	h, err := wire.DecodeHello(p)
	if err != nil {
		return fail(err)
	}
	if h.Version != wire.Version {
		return fail(fmt.Errorf("the session's paude speaks sync protocol %d, this paude %d: use the same paude version locally and in the image", h.Version, wire.Version))
	}
	var reply agent.Reply
	if err := json.Unmarshal(h.Config, &reply); err != nil {
		return fail(fmt.Errorf("%w: bad hello from the helper", wire.ErrProtocol))
	}
	return s, reply, nil
}

// explain turns a failure to talk to the helper into an error that says
// what the user can do.
func (s *stream) explain(err error) error {
	var exit *remote.ExitError
	select {
	case <-s.exited:
		if errors.As(s.exitErr, &exit) {
			err = s.exitErr
		}
	default:
	}
	msg := s.stderr.String()
	if errors.As(err, &exit) && (exit.Code == 126 || exit.Code == 127) {
		return fmt.Errorf("the session has no runnable sync helper at %s (exit code %d): the image must contain the paude binary there, or set sync.method to devspace", guard.Printable(exit.Argv[0]), exit.Code)
	}
	if msg != "" {
		return fmt.Errorf("sync helper (%s) failed: %w; it said: %s", s.mode, err, guard.Printable(msg))
	}
	return fmt.Errorf("sync helper (%s) failed: %w", s.mode, err)
}

// close ends the helper: closing stdin lets an honest helper exit; the
// exec's context does the rest.
func (s *stream) close() {
	_ = s.stdin.Close()
}

// readBatchStart reads the next frame, which must open a batch.
func readBatchStart(r *wire.Reader) (wire.Start, error) {
	typ, p, err := r.Next()
	if err != nil {
		return wire.Start{}, err
	}
	switch typ {
	case wire.FrameStart:
		return wire.DecodeStart(p)
	case wire.FrameError:
		return wire.Start{}, &wire.RemoteError{Msg: string(p)}
	}
	return wire.Start{}, fmt.Errorf("%w: got frame %q, expected a batch", wire.ErrProtocol, typ)
}

// readEnd reads a batch end and checks its id.
func readEnd(r *wire.Reader, id uint64) error {
	p, err := r.Expect(wire.FrameEnd)
	if err != nil {
		return err
	}
	got, err := wire.DecodeEnd(p)
	if err != nil {
		return err
	}
	if got != id {
		return fmt.Errorf("%w: batch %d ended as %d", wire.ErrProtocol, id, got)
	}
	return nil
}
