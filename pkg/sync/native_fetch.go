package sync

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// maxRequestBytes keeps a request's paths well inside one frame.
const maxRequestBytes = wire.MaxFrame - 1024

// chunkPaths splits paths into groups that fit one request frame.
func chunkPaths(paths []string) [][]string {
	var out [][]string
	var cur []string
	size := 0
	for _, p := range paths {
		if size+len(p)+4 > maxRequestBytes && len(cur) > 0 {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, p)
		size += len(p) + 4
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// fetch asks the session for the files in items and applies what comes
// back, checking every entry again: the reply is as untrusted as the
// notification was.
func (n *Native) fetch(ctx context.Context, items []pullItem, prog *progress) error {
	if len(items) == 0 {
		return nil
	}
	want := make(map[string]pullItem, len(items))
	paths := make([]string, 0, len(items))
	for _, it := range items {
		if _, dup := want[it.path]; !dup {
			paths = append(paths, it.path)
		}
		want[it.path] = it
	}
	var batchBytes int64
	var dones []<-chan struct{}
	for _, chunk := range chunkPaths(paths) {
		count := uint32(len(chunk))
		done, err := n.link.request(wire.RequestGet, wire.BatchContent, chunk, func(start wire.Start, r *wire.Reader) error {
			if start.Count != count {
				return fmt.Errorf("%w: content batch of %d for a request of %d", wire.ErrProtocol, start.Count, count)
			}
			return readItems(r, start, int(count), func(typ byte, p []byte) error {
				return n.receive(ctx, r, typ, p, want, &batchBytes, prog)
			})
		})
		if err != nil {
			return err
		}
		dones = append(dones, done)
	}
	for _, done := range dones {
		if err := n.link.wait(ctx, done); err != nil {
			return err
		}
	}
	n.idxDirty = true
	return nil
}

// receive handles one entry of a content batch (in the link's reader
// goroutine, while the engine loop waits for the batch).
func (n *Native) receive(ctx context.Context, r *wire.Reader, typ byte, p []byte, want map[string]pullItem, batchBytes *int64, prog *progress) error {
	if typ != wire.FrameEntry {
		return fmt.Errorf("%w: frame %q in a content batch", wire.ErrProtocol, typ)
	}
	e, err := wire.DecodeEntry(p)
	if err != nil {
		return err
	}
	var fc *wire.FileContent
	if e.Op == wire.OpPut && e.Kind == wire.KindFile {
		fc = r.File(&e)
	}
	limits := n.opts.Limits
	refuse := func(ref *guard.Refusal) error {
		n.report(*ref)
		if fc == nil {
			return nil
		}
		if e.Size > limits.MaxFileSize {
			// Too much to read past: the session is hostile, end the link.
			return fmt.Errorf("%w: refused a %d-byte file", wire.ErrProtocol, e.Size)
		}
		_, err := fc.Finish()
		return err
	}
	it, ok := want[e.Path]
	delete(want, e.Path)
	if !ok {
		return refuse(&guard.Refusal{Rule: guard.RuleUnrequested, Path: e.Path, Detail: "the session sent a path that was not asked for"})
	}
	if e.Op == wire.OpDelete {
		return nil
	}
	if ref := n.ws.Policy().CheckEntry(&e); ref != nil {
		return refuse(ref)
	}
	if fc != nil {
		*batchBytes += e.Size
		if *batchBytes > limits.MaxBatchBytes {
			n.report(guard.Refusal{Rule: guard.RuleBatchBytes, Path: e.Path, Detail: fmt.Sprintf("the batch is over the %d-byte limit", limits.MaxBatchBytes)})
			return fmt.Errorf("%w: batch over the byte limit", wire.ErrProtocol)
		}
	}
	if err := n.take(ctx); err != nil {
		return err
	}
	n.applyFetched(it, e, fc)
	if fc != nil {
		if _, err := fc.Finish(); err != nil {
			return err
		}
	}
	prog.add(1, e.Size)
	return nil
}

// applyFetched writes one fetched object, as a conflict copy when asked
// to or when the local side changed since the decision.
func (n *Native) applyFetched(it pullItem, e wire.Entry, fc *wire.FileContent) {
	if !it.conflict {
		l, lok, err := n.ws.Dir().LstatPath(e.Path)
		if err == nil && (lok != it.expectOK || (lok && !it.expect.same(l, true))) {
			it.conflict = true
			n.force[e.Path] = struct{}{}
		}
	}
	if it.conflict {
		if fc == nil {
			n.conflict(Conflict{Path: e.Path, Time: time.Now()})
			return
		}
		copyEntry := e
		copyEntry.Path = n.conflictName(e.Path)
		_, err := n.ws.PutFile(&copyEntry, fc, fc.Finish)
		c := Conflict{Path: e.Path, Time: time.Now()}
		if err == nil {
			c.SavedAs = copyEntry.Path
		} else if !errors.Is(err, guard.ErrChanged) {
			n.warn(fmt.Sprintf("could not save the session's version of %s: %v", guard.Printable(e.Path), err))
		}
		n.conflict(c)
		return
	}
	var st wire.Entry
	var err error
	switch e.Kind {
	case wire.KindFile:
		st, err = n.ws.PutFile(&e, fc, fc.Finish)
	case wire.KindDir:
		st, err = n.ws.Mkdir(&e)
	case wire.KindSymlink:
		st, err = n.ws.Symlink(&e)
	}
	_ = n.recordPull(e, st, err)
}

var unsafeNameChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// conflictName is where the session's version of rel is saved:
// "<name>.paude-conflict-<pod>-<time>", beside it, never overwriting.
func (n *Native) conflictName(rel string) string {
	pod := unsafeNameChars.ReplaceAllString(n.opts.PodName, "_")
	if pod == "" {
		pod = "session"
	}
	base := rel + tree.ConflictMarker + pod + "-" + time.Now().UTC().Format("20060102T150405Z")
	name := base
	for i := 2; ; i++ {
		if _, ok, _ := n.ws.Dir().LstatPath(name); !ok {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// sameContent compares, by SHA-256, local files with the session's for
// paths changed on both sides to the same size: equal content is no
// conflict.
func (n *Native) sameContent(ctx context.Context, entries []wire.Entry) (map[string]bool, error) {
	paths := make([]string, 0, len(entries))
	for _, e := range entries {
		paths = append(paths, e.Path)
	}
	remote := map[string][32]byte{}
	var dones []<-chan struct{}
	for _, chunk := range chunkPaths(paths) {
		asked := map[string]bool{}
		for _, p := range chunk {
			asked[p] = true
		}
		done, err := n.link.request(wire.RequestHash, wire.BatchHashes, chunk, func(start wire.Start, r *wire.Reader) error {
			return readItems(r, start, len(asked), func(typ byte, p []byte) error {
				if typ != wire.FrameHash {
					return fmt.Errorf("%w: frame %q in a hashes batch", wire.ErrProtocol, typ)
				}
				h, err := wire.DecodeHash(p)
				if err != nil {
					return err
				}
				if asked[h.Path] && !h.Missing {
					remote[h.Path] = h.Sum
				}
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
		dones = append(dones, done)
	}
	for _, done := range dones {
		if err := n.link.wait(ctx, done); err != nil {
			return nil, err
		}
	}
	same := map[string]bool{}
	for _, p := range paths {
		sum, ok := remote[p]
		if !ok {
			continue
		}
		local, err := tree.HashPath(n.ws.Dir(), p)
		same[p] = err == nil && local == sum
	}
	return same, nil
}
