package sync

import (
	"errors"
	"fmt"
	"io"

	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

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

// maxBatchEntryBytes bounds the entry records of one batch: 500,000
// entries with paths of 500 bytes.
const maxBatchEntryBytes = 256 << 20

// readItems reads the items of a batch whose start was read, up to and
// including its end frame, calling fn for each item frame. A batch of
// unknown length is bounded by the policy's entry limit; a known one may
// not carry more than it declared.
func readItems(r *wire.Reader, start wire.Start, limit int, fn func(typ byte, p []byte) error) error {
	n := 0
	var entryBytes int64
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
		if typ == wire.FrameEntry {
			// The entries' names and targets are kept while the batch
			// is worked on: bounded as a whole, not only by count.
			if entryBytes += int64(len(p)); entryBytes > maxBatchEntryBytes {
				return fmt.Errorf("%w: %s batch carries more than %d MiB of names", wire.ErrProtocol, start.Kind, maxBatchEntryBytes>>20)
			}
		}
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
