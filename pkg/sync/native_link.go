package sync

import (
	"context"
	"errors"
	stdsync "sync"
	"sync/atomic"
	"time"

	"github.com/paude-dev/paude/pkg/remote"
	"github.com/paude-dev/paude/pkg/sync/agent"
	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// link is one connection to the session: the push stream (recv helper)
// and the watch stream (watch helper), the goroutines reading them, and
// what they delivered. The engine loop owns everything else.
type link struct {
	push, pull *stream
	cancel     context.CancelFunc
	policy     *guard.Policy
	report     func(guard.Refusal)
	nextID     atomic.Uint64

	acks chan ackBatch

	dead    chan struct{}
	deadErr error
	once    stdsync.Once

	reqs chan wire.Request

	mu       stdsync.Mutex
	handlers map[uint64]pending
	notifies [][]wire.Entry
	queued   int
	overflow bool
	rescan   bool
	// notified is signalled (never blocking) when notifies or rescan
	// changed.
	notified chan struct{}
	// polling is the watch helper's reason for rescanning periodically.
	polling string
	// watching is set once the watch helper placed its watches (the
	// engine loop owns it).
	watching bool
}

// pending is a request waiting for its batch.
type pending struct {
	kind   wire.BatchKind
	handle func(start wire.Start, r *wire.Reader) error
	done   chan struct{}
}

type ackBatch struct {
	id      uint64
	results []wire.Result
}

// maxQueuedNotify bounds notify entries held while the engine is busy;
// past it they are dropped and a full reconcile runs instead.
const maxQueuedNotify = 200_000

func openLink(ctx context.Context, ex remote.Executor, helper string, cfg agent.Config, policy *guard.Policy, report func(guard.Refusal)) (*link, error) {
	ctx, cancel := context.WithCancel(ctx)
	// Both helpers start at once: each exec is a round trip to the pod.
	type dialed struct {
		s     *stream
		reply agent.Reply
		err   error
	}
	pushc := make(chan dialed, 1)
	go func() {
		s, r, err := dial(ctx, ex, helper, agent.ModeRecv, cfg)
		pushc <- dialed{s, r, err}
	}()
	pull, reply, err := dial(ctx, ex, helper, agent.ModeWatch, cfg)
	p := <-pushc
	if err == nil {
		err = p.err
	}
	if err != nil {
		for _, s := range []*stream{pull, p.s} {
			if s != nil {
				s.close()
			}
		}
		cancel()
		return nil, err
	}
	push := p.s
	l := &link{
		push: push, pull: pull, cancel: cancel, policy: policy, report: report,
		acks:     make(chan ackBatch, 1),
		dead:     make(chan struct{}),
		reqs:     make(chan wire.Request, 64),
		handlers: map[uint64]pending{},
		notified: make(chan struct{}, 1),
		polling:  reply.Polling,
	}
	go l.readAcks()
	go l.readPull()
	go l.writeRequests()
	go func() {
		// A helper that exits ends the link.
		select {
		case <-push.exited:
			l.fail(push.explain(push.exitErr))
		case <-pull.exited:
			l.fail(pull.explain(pull.exitErr))
		case <-l.dead:
		}
	}()
	return l, nil
}

// fail records the first error and ends both helpers.
func (l *link) fail(err error) {
	l.once.Do(func() {
		if err == nil {
			err = errors.New("sync connection closed")
		}
		l.deadErr = err
		close(l.dead)
		l.push.close()
		l.pull.close()
		l.cancel()
	})
}

// close ends the link without an error: the helpers see their stdin end
// and exit on their own; the exec is cancelled only if they do not.
func (l *link) close() {
	l.push.close()
	l.pull.close()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	for _, s := range []*stream{l.push, l.pull} {
		select {
		case <-s.exited:
		case <-t.C:
		}
	}
	l.fail(errLinkClosed)
}

var errLinkClosed = errors.New("sync connection closed")

// err is why the link died (nil while it is alive).
func (l *link) err() error {
	select {
	case <-l.dead:
		return l.deadErr
	default:
		return nil
	}
}

func (l *link) signal() {
	select {
	case l.notified <- struct{}{}:
	default:
	}
}

// wait blocks until done is closed, the link dies or ctx ends.
func (l *link) wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-l.dead:
		return l.deadErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request registers a handler for the reply and queues the request.
func (l *link) request(kind wire.RequestKind, reply wire.BatchKind, paths []string, handle func(wire.Start, *wire.Reader) error) (<-chan struct{}, error) {
	id := l.nextID.Add(1)
	p := pending{kind: reply, handle: handle, done: make(chan struct{})}
	l.mu.Lock()
	l.handlers[id] = p
	l.mu.Unlock()
	select {
	case l.reqs <- wire.Request{Kind: kind, ID: id, Paths: paths}:
		return p.done, nil
	case <-l.dead:
		return nil, l.deadErr
	}
}

func (l *link) writeRequests() {
	for {
		select {
		case <-l.dead:
			return
		case req := <-l.reqs:
			err := l.pull.w.Request(req)
			if err == nil {
				err = l.pull.w.Flush()
			}
			if err != nil {
				l.fail(l.pull.explain(err))
				return
			}
		}
	}
}
