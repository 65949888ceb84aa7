package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	stdsync "sync"

	"golang.org/x/sys/unix"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// notifyChunk keeps notify batches well below the host's per-batch limit.
const notifyChunk = 10_000

// watcher is the watch helper's state: the tree, the kernel watches and
// the one writer all batches share.
type watcher struct {
	root string
	dir  *tree.Dir
	x    *tree.Excludes
	mu   stdsync.Mutex // one batch at a time on the stream
	w    *wire.Writer
	cfg  Config
	// tw is nil until watching starts (at once, or on RequestWatch).
	tw     *tree.Watcher
	errc   chan error
	stderr io.Writer
}

// runWatch reports changes below the root as notify batches and answers
// the host's requests until the host closes stdin.
func runWatch(ctx context.Context, cfg Config, r *wire.Reader, w *wire.Writer, stderr io.Writer) error {
	x, err := tree.NewExcludes(cfg.Excludes)
	if err != nil {
		return err
	}
	d, err := tree.OpenRoot(cfg.Root)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	s := &watcher{root: cfg.Root, dir: d, x: x, w: w, cfg: cfg, stderr: stderr, errc: make(chan error, 1)}
	defer func() { _ = s.stopWatching() }()
	reply := Reply{Mode: ModeWatch, PID: os.Getpid()}
	if !cfg.DeferWatch {
		// Watches first, then the hello: a change made after the host got
		// the hello is never missed.
		reply.Polling = s.startWatching()
	}
	s.mu.Lock()
	err = sendHello(w, reply)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	reqErr := s.requestLoop(ctx, r)
	if nerr := s.stopWatching(); reqErr == nil {
		reqErr = nerr
	}
	return reqErr
}

// startWatching places the watches and starts reporting; it returns why
// the watcher polls, if it does.
func (s *watcher) startWatching() string {
	if s.tw != nil {
		return ""
	}
	tw := tree.Watch(s.cfg.Root, s.dir, s.x, s.cfg.watchOptions())
	s.tw = tw
	// The loop gets the watcher itself: stopWatching clears s.tw, maybe
	// before the loop first runs.
	go func() { s.errc <- s.notifyLoop(tw) }()
	if polling, why := s.tw.Polling(); polling {
		_, _ = fmt.Fprintf(s.stderr, "sync helper: no kernel watches (%v): rescanning periodically\n", why)
		return why.Error()
	}
	return ""
}

func (s *watcher) stopWatching() error {
	if s.tw == nil {
		return nil
	}
	s.tw.Close()
	s.tw = nil
	return <-s.errc
}

// notifyLoop turns tw's batches into notify batches.
func (s *watcher) notifyLoop(tw *tree.Watcher) error {
	for c := range tw.Changes() {
		if err := s.notify(c); err != nil {
			return err
		}
	}
	return nil
}

func (s *watcher) notify(c tree.Changes) error {
	defer func() {
		if c.Marker != nil {
			close(c.Marker)
		}
	}()
	if c.Rescan {
		if err := s.emptyBatch(wire.BatchRescan, 0); err != nil {
			return err
		}
	}
	entries := make([]wire.Entry, 0, min(len(c.Paths), notifyChunk))
	flush := func() error {
		if len(entries) == 0 {
			return nil
		}
		err := s.batch(wire.BatchNotify, 0, entries)
		entries = entries[:0]
		return err
	}
	dirs := tree.NewDirCache(s.dir)
	defer dirs.Close()
	for _, p := range c.Paths {
		e, ok, err := lstatVia(dirs, p)
		if err != nil {
			continue
		}
		if !ok {
			e = wire.Entry{Op: wire.OpDelete, Path: p}
		} else if s.x.Match(p, e.Kind == wire.KindDir) {
			continue
		}
		entries = append(entries, e)
		if len(entries) == notifyChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// batch writes stat-only entries as one batch.
func (s *watcher) batch(kind wire.BatchKind, id uint64, entries []wire.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Start(wire.Start{Kind: kind, ID: id, Count: uint32(len(entries))}); err != nil {
		return err
	}
	for i := range entries {
		if err := s.w.Entry(&entries[i]); err != nil {
			return err
		}
	}
	if err := s.w.End(id); err != nil {
		return err
	}
	return s.w.Flush()
}

func (s *watcher) emptyBatch(kind wire.BatchKind, id uint64) error {
	return s.batch(kind, id, nil)
}

func (s *watcher) requestLoop(ctx context.Context, r *wire.Reader) error {
	for {
		typ, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if typ != wire.FrameRequest {
			return fmt.Errorf("%w: got frame %q, expected a request", wire.ErrProtocol, typ)
		}
		req, err := wire.DecodeRequest(p)
		if err != nil {
			return err
		}
		switch req.Kind {
		case wire.RequestManifest:
			err = s.manifest(req.ID)
		case wire.RequestGet:
			err = s.get(req.ID, req.Paths)
		case wire.RequestHash:
			err = s.hash(req.ID, req.Paths)
		case wire.RequestMarker:
			if s.tw != nil {
				err = s.tw.Sync(ctx)
			}
			if err == nil {
				err = s.emptyBatch(wire.BatchMarker, req.ID)
			}
		case wire.RequestWatch:
			s.startWatching()
			err = s.emptyBatch(wire.BatchMarker, req.ID)
		default:
			err = fmt.Errorf("%w: unknown request %d", wire.ErrProtocol, req.Kind)
		}
		if err != nil {
			return err
		}
	}
}

// manifest streams every synced path. The count is not known before the
// walk, so the batch declares the unknown count and the host bounds it
// while reading.
func (s *watcher) manifest(id uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Start(wire.Start{Kind: wire.BatchManifest, ID: id, Count: wire.CountUnknown}); err != nil {
		return err
	}
	err := tree.Walk(s.dir, "", s.x, func(e wire.Entry) error { return s.w.Entry(&e) })
	if err != nil {
		return err
	}
	if err := s.w.End(id); err != nil {
		return err
	}
	return s.w.Flush()
}

// get sends the named paths with content; a path that is gone is sent as
// a delete, anything that is not a file as its stat.
func (s *watcher) get(id uint64, paths []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Start(wire.Start{Kind: wire.BatchContent, ID: id, Count: uint32(len(paths))}); err != nil {
		return err
	}
	for _, p := range paths {
		if err := s.sendOne(p); err != nil {
			return err
		}
	}
	if err := s.w.End(id); err != nil {
		return err
	}
	return s.w.Flush()
}

func (s *watcher) sendOne(p string) error {
	parent, name := tree.SplitParent(p)
	pd, release, err := s.dir.Walk(parent)
	if err != nil {
		e := wire.Entry{Op: wire.OpDelete, Path: p}
		return s.w.Entry(&e)
	}
	defer release()
	e, ok, err := pd.Lstat(name, p)
	if err != nil || !ok {
		e = wire.Entry{Op: wire.OpDelete, Path: p}
		return s.w.Entry(&e)
	}
	if e.Kind != wire.KindFile {
		return s.w.Entry(&e)
	}
	f, st, err := pd.OpenFileStat(name, p)
	if err != nil {
		e = wire.Entry{Op: wire.OpDelete, Path: p}
		if errors.Is(err, unix.ENOENT) {
			return s.w.Entry(&e)
		}
		// Swapped for something else: report what is there now.
		if now, ok, _ := pd.Lstat(name, p); ok {
			e = now
			if e.Kind == wire.KindFile {
				e.Size = 0
			}
		}
		if err := s.w.Entry(&e); err != nil || e.Kind != wire.KindFile {
			return err
		}
		return s.w.Trailer(wire.TrailerChanged)
	}
	defer func() { _ = f.Close() }()
	return SendFile(s.w, f, st)
}

// SendFile writes an open regular file as a content entry: e, its stat
// from the open descriptor (with any precondition set), exactly e.Size
// bytes, and a trailer saying whether the file stayed the same while it
// was read.
func SendFile(w *wire.Writer, f *os.File, e wire.Entry) error {
	rel := e.Path
	if err := w.Entry(&e); err != nil {
		return err
	}
	short, err := w.Content(f, e.Size)
	if err != nil {
		return err
	}
	status := wire.TrailerOK
	if after, err := tree.StatOf(f, rel); short || err != nil || after.Size != e.Size || after.Mtime != e.Mtime {
		status = wire.TrailerChanged
	}
	return w.Trailer(status)
}

func (s *watcher) hash(id uint64, paths []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Start(wire.Start{Kind: wire.BatchHashes, ID: id, Count: uint32(len(paths))}); err != nil {
		return err
	}
	for _, p := range paths {
		h := wire.Hash{Path: p}
		sum, err := tree.HashPath(s.dir, p)
		if err != nil {
			h.Missing = true
		} else {
			h.Sum = sum
		}
		if err := s.w.Hash(h); err != nil {
			return err
		}
	}
	if err := s.w.End(id); err != nil {
		return err
	}
	return s.w.Flush()
}

// lstatVia is Dir.LstatPath through a directory cache (paths come sorted).
func lstatVia(dirs *tree.DirCache, rel string) (wire.Entry, bool, error) {
	parent, name := tree.SplitParent(rel)
	d, err := dirs.Dir(parent)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, tree.ErrSymlinkAncestor) || errors.Is(err, tree.ErrNotDirAncestor) {
			return wire.Entry{}, false, nil
		}
		return wire.Entry{}, false, err
	}
	return d.Lstat(name, rel)
}
