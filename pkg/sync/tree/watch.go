package tree

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"

	"github.com/paude-dev/paude/pkg/sync/wire"
)

// Changes is one batch of paths that may have changed. Consumers lstat
// each path and compare with what they know; a path may be reported
// although nothing changed, and the exclude check is theirs to redo with
// the object's real kind.
type Changes struct {
	// Paths are slash-separated relative paths, without duplicates.
	Paths []string
	// Rescan says events were lost (or the watcher is polling): compare
	// the whole tree.
	Rescan bool
	// Marker, when not nil, answers a Sync call: the consumer closes it
	// once it has handled this batch.
	Marker chan struct{}
}

// WatchOptions tune batching.
type WatchOptions struct {
	// Quiet ends a batch when no event arrived for this long (default
	// 10ms): editors write a file in several calls within microseconds.
	Quiet time.Duration
	// Max ends a batch this long after its first event however busy the
	// tree is (default 50ms), bounding the latency of a change.
	Max time.Duration
	// PollInterval is how often a watcher that could not get kernel
	// watches asks for a rescan (default 2s).
	PollInterval time.Duration
}

func (o *WatchOptions) defaults() {
	if o.Quiet <= 0 {
		o.Quiet = 10 * time.Millisecond
	}
	if o.Max <= 0 {
		o.Max = 50 * time.Millisecond
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
}

// Watcher reports changes below a root: fsnotify watches on every synced
// directory (inotify, kqueue), added as directories appear, or periodic
// rescans when the kernel refuses more watches.
type Watcher struct {
	root    string
	dir     *Dir
	x       *Excludes
	opts    WatchOptions
	fw      *fsnotify.Watcher
	watched map[string]struct{}
	out     chan Changes
	syncReq chan chan struct{}
	stop    chan struct{}
	done    chan struct{}
	// Polling is set when kernel watches were unavailable.
	polling bool
	// Err is the reason for polling, for status reports.
	pollErr error
}

// Watch starts watching root (opened as d). The first batch may arrive at
// once. Close stops it.
func Watch(root string, d *Dir, x *Excludes, opts WatchOptions) *Watcher {
	opts.defaults()
	w := &Watcher{
		root: filepath.Clean(root), dir: d, x: x, opts: opts,
		watched: map[string]struct{}{},
		out:     make(chan Changes, 4),
		syncReq: make(chan chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	fw, err := fsnotify.NewWatcher()
	if err == nil {
		w.fw = fw
		err = w.addTree("", nil)
	}
	if err != nil {
		w.fallBack(err)
	}
	go w.loop()
	return w
}

// Changes delivers batches until Close.
func (w *Watcher) Changes() <-chan Changes { return w.out }

// Polling reports whether the watcher fell back to periodic rescans, and
// why.
func (w *Watcher) Polling() (bool, error) { return w.polling, w.pollErr }

// Sync makes the watcher deliver, now, a batch with every event queued so
// far, and waits until the consumer has closed its Marker.
func (w *Watcher) Sync(ctx context.Context) error {
	marker := make(chan struct{})
	select {
	case w.syncReq <- marker:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return errors.New("watcher stopped")
	}
	select {
	case <-marker:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return errors.New("watcher stopped")
	}
}

// Close stops the watcher and closes the Changes channel.
func (w *Watcher) Close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (w *Watcher) fallBack(err error) {
	if w.fw != nil {
		_ = w.fw.Close()
		w.fw = nil
	}
	w.watched = map[string]struct{}{}
	w.polling, w.pollErr = true, err
}

// addTree watches rel and every synced directory below it, and adds every
// path found to dirty (when not nil): files created in a new directory
// before its watch existed are reported this way.
func (w *Watcher) addTree(rel string, dirty map[string]struct{}) error {
	if err := w.add(rel); err != nil {
		return err
	}
	if dirty == nil {
		return WalkDirs(w.dir, rel, w.x, w.add)
	}
	return Walk(w.dir, rel, w.x, func(e wire.Entry) error {
		if dirty != nil {
			dirty[e.Path] = struct{}{}
		}
		if e.Kind == wire.KindDir {
			return w.add(e.Path)
		}
		return nil
	})
}

func (w *Watcher) add(rel string) error {
	if err := w.fw.Add(w.abs(rel)); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return nil
		}
		return err
	}
	w.watched[rel] = struct{}{}
	return nil
}

func (w *Watcher) forget(rel string) {
	for p := range w.watched {
		if p == rel || (rel != "" && strings.HasPrefix(p, rel+"/")) {
			_ = w.fw.Remove(w.abs(p))
			delete(w.watched, p)
		}
	}
}

func (w *Watcher) abs(rel string) string {
	if rel == "" {
		return w.root
	}
	return w.root + "/" + rel
}

func (w *Watcher) rel(name string) (string, bool) {
	name = filepath.Clean(name)
	if name == w.root {
		return "", false
	}
	r, ok := strings.CutPrefix(name, w.root+"/")
	return filepath.ToSlash(r), ok
}

func (w *Watcher) loop() {
	defer close(w.done)
	defer close(w.out)
	defer func() {
		if w.fw != nil {
			_ = w.fw.Close()
		}
	}()
	b := &batcher{dirty: map[string]struct{}{}, quietD: w.opts.Quiet, maxD: w.opts.Max}
	defer b.stopTimers()
	var poll <-chan time.Time
	var ticker *time.Ticker
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	startPolling := func() {
		ticker = time.NewTicker(w.opts.PollInterval)
		poll = ticker.C
		b.rescan = true
		b.ready()
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w.fw != nil {
		events, errs = w.fw.Events, w.fw.Errors
	}
	if w.polling {
		startPolling()
	}
	for {
		// A finished batch waits here until the consumer takes it, while
		// new events keep accumulating: a slow consumer gets bigger
		// batches, and the kernel's queue keeps being read.
		var out chan Changes
		if b.pending != nil {
			out = w.out
		}
		// One Sync at a time: a second waits until the first's batch is out.
		syncReq := w.syncReq
		if b.pending != nil && b.pending.Marker != nil {
			syncReq = nil
		}
		var pending Changes
		if b.pending != nil {
			pending = *b.pending
		}
		select {
		case <-w.stop:
			return
		case out <- pending:
			b.pending = nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			w.handle(ev, b.dirty)
			if w.polling && poll == nil {
				events, errs = nil, nil
				startPolling()
			}
			b.arm()
		case _, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// Lost events (queue overflow) or a broken watch: only a full
			// comparison is safe.
			b.rescan = true
			b.arm()
		case <-b.quiet:
			b.ready()
		case <-b.maxT:
			b.ready()
		case <-poll:
			b.rescan = true
			b.ready()
		case marker := <-syncReq:
			// Take what the kernel has queued already before answering.
			w.drain(events, b.dirty)
			if w.polling {
				b.rescan = true
			}
			b.ready()
			if b.pending == nil {
				b.pending = &Changes{}
			}
			b.pending.Marker = marker
		}
	}
}

// drain handles the events already waiting, giving the reader goroutine a
// moment to move the kernel's queue into the channel.
func (w *Watcher) drain(events <-chan fsnotify.Event, dirty map[string]struct{}) {
	if events == nil {
		return
	}
	deadline := time.After(5 * time.Millisecond)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			w.handle(ev, dirty)
		case <-deadline:
			return
		}
	}
}

func (w *Watcher) handle(ev fsnotify.Event, dirty map[string]struct{}) {
	rel, ok := w.rel(ev.Name)
	if !ok {
		return
	}
	if w.x.Match(rel, false) {
		return
	}
	dirty[rel] = struct{}{}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if _, ok := w.watched[rel]; ok {
			w.forget(rel)
		}
	}
	if ev.Has(fsnotify.Create) {
		e, ok, err := w.dir.LstatPath(rel)
		if err != nil || !ok || e.Kind != wire.KindDir || w.x.Match(rel, true) {
			return
		}
		if err := w.addTree(rel, dirty); err != nil && !w.polling {
			// Out of kernel watches: poll from now on.
			w.fallBack(err)
		}
	}
}
