package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// readAcks reads ack batches from the push stream.
func (l *link) readAcks() {
	r := l.push.r
	for {
		start, err := readBatchStart(r)
		if err != nil {
			l.fail(l.push.explain(err))
			return
		}
		if start.Kind != wire.BatchAck || start.Count > uint32(l.policy.Limits.MaxBatchEntries) {
			l.protocol(fmt.Sprintf("unexpected %s batch of %d on the push stream", start.Kind, start.Count))
			return
		}
		results := make([]wire.Result, 0, start.Count)
		for range start.Count {
			p, err := r.Expect(wire.FrameResult)
			if err == nil {
				var res wire.Result
				if res, err = wire.DecodeResult(p); err == nil {
					results = append(results, res)
				}
			}
			if err != nil {
				l.fail(l.push.explain(err))
				return
			}
		}
		if err := readEnd(r, start.ID); err != nil {
			l.fail(l.push.explain(err))
			return
		}
		select {
		case l.acks <- ackBatch{id: start.ID, results: results}:
		case <-l.dead:
			return
		}
	}
}

// protocol reports a helper that broke the protocol and ends the link.
func (l *link) protocol(detail string) {
	l.report(guard.Refusal{Rule: guard.RuleProtocol, Path: "", Detail: detail})
	l.fail(fmt.Errorf("%w: %s", wire.ErrProtocol, detail))
}

// readPull reads the watch stream: notify and rescan batches are queued
// for the engine, replies go to the handler of their request.
func (l *link) readPull() {
	r := l.pull.r
	for {
		start, err := readBatchStart(r)
		if err != nil {
			l.fail(l.pull.explain(err))
			return
		}
		switch start.Kind {
		case wire.BatchNotify:
			err = l.readNotify(r, start)
		case wire.BatchRescan:
			if err = readItems(r, start, 0, nil); err == nil {
				l.mu.Lock()
				l.rescan = true
				l.mu.Unlock()
				l.signal()
			}
		case wire.BatchManifest, wire.BatchContent, wire.BatchHashes, wire.BatchMarker:
			err = l.reply(r, start)
		default:
			l.protocol(fmt.Sprintf("unexpected %s batch on the watch stream", start.Kind))
			return
		}
		if err != nil {
			if errors.Is(err, wire.ErrProtocol) {
				l.protocol(err.Error())
			} else {
				l.fail(l.pull.explain(err))
			}
			return
		}
	}
}

func (l *link) reply(r *wire.Reader, start wire.Start) error {
	l.mu.Lock()
	p, ok := l.handlers[start.ID]
	delete(l.handlers, start.ID)
	l.mu.Unlock()
	if !ok || p.kind != start.Kind {
		return fmt.Errorf("%w: %s batch %d that was not asked for", wire.ErrProtocol, start.Kind, start.ID)
	}
	if start.Count != wire.CountUnknown && start.Count > uint32(l.policy.Limits.MaxBatchEntries) {
		l.report(guard.Refusal{Rule: guard.RuleBatchEntries, Detail: fmt.Sprintf("a %s batch of %d entries is over the limit of %d", start.Kind, start.Count, l.policy.Limits.MaxBatchEntries)})
		return fmt.Errorf("%w: batch too large", wire.ErrProtocol)
	}
	if err := p.handle(start, r); err != nil {
		return err
	}
	close(p.done)
	return nil
}

// readItems reads the items of a batch whose start was read, up to and
// including its end frame, calling fn for each item frame. A batch of
// unknown length is bounded by the policy's entry limit; a known one may
// not carry more than it declared.
func readItems(r *wire.Reader, start wire.Start, limit int, fn func(typ byte, p []byte) error) error {
	n := 0
	for {
		typ, p, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: stream ended inside a %s batch", wire.ErrProtocol, start.Kind)
			}
			return err
		}
		switch typ {
		case wire.FrameEnd:
			id, err := wire.DecodeEnd(p)
			if err != nil {
				return err
			}
			if id != start.ID {
				return fmt.Errorf("%w: batch %d ended as %d", wire.ErrProtocol, start.ID, id)
			}
			if start.Count != wire.CountUnknown && uint32(n) != start.Count {
				return fmt.Errorf("%w: %s batch declared %d items and carried %d", wire.ErrProtocol, start.Kind, start.Count, n)
			}
			return nil
		case wire.FrameError:
			return &wire.RemoteError{Msg: string(p)}
		}
		n++
		if (start.Count != wire.CountUnknown && uint32(n) > start.Count) || n > limit {
			return fmt.Errorf("%w: %s batch carries more than its %d items (limit %d)", wire.ErrProtocol, start.Kind, start.Count, limit)
		}
		if err := fn(typ, p); err != nil {
			return err
		}
	}
}

// readNotify reads a notify batch, checks every entry and queues the
// acceptable ones.
func (l *link) readNotify(r *wire.Reader, start wire.Start) error {
	limit := uint32(l.policy.Limits.MaxBatchEntries)
	if start.Count > limit {
		l.report(guard.Refusal{Rule: guard.RuleBatchEntries, Detail: fmt.Sprintf("a notify batch of %d entries is over the limit of %d", start.Count, limit)})
		return fmt.Errorf("%w: notify batch too large", wire.ErrProtocol)
	}
	entries := make([]wire.Entry, 0, start.Count)
	err := readItems(r, start, int(limit), func(typ byte, p []byte) error {
		if typ != wire.FrameEntry {
			return fmt.Errorf("%w: frame %q in a notify batch", wire.ErrProtocol, typ)
		}
		e, err := wire.DecodeEntry(p)
		if err != nil {
			return err
		}
		if ref := l.policy.CheckEntry(&e); ref != nil {
			l.report(*ref)
			return nil
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return err
	}
	l.mu.Lock()
	if l.queued+len(entries) > maxQueuedNotify {
		// The engine cannot keep up: drop the details and compare the
		// whole tree once it can.
		l.overflow = true
		l.notifies, l.queued = nil, 0
	} else if len(entries) > 0 {
		l.notifies = append(l.notifies, entries)
		l.queued += len(entries)
	}
	l.mu.Unlock()
	l.signal()
	return nil
}

// takeNotifies returns the queued notify entries (later ones for the same
// path win) and whether a full reconcile is needed instead.
func (l *link) takeNotifies() (entries []wire.Entry, rescan bool) {
	l.mu.Lock()
	batches, overflow, rs := l.notifies, l.overflow, l.rescan
	l.notifies, l.queued, l.overflow, l.rescan = nil, 0, false, false
	l.mu.Unlock()
	if overflow || rs {
		return nil, true
	}
	at := map[string]int{}
	for _, b := range batches {
		for _, e := range b {
			if i, ok := at[e.Path]; ok {
				entries[i] = e
				continue
			}
			at[e.Path] = len(entries)
			entries = append(entries, e)
		}
	}
	return entries, false
}
