package tree

import (
	"slices"
	"time"
)

// batcher collects dirty paths and decides when they form a batch.
type batcher struct {
	dirty      map[string]struct{}
	rescan     bool
	pending    *Changes
	quietD     time.Duration
	maxD       time.Duration
	quietTimer *time.Timer
	maxTimer   *time.Timer
	quiet      <-chan time.Time
	maxT       <-chan time.Time
}

// arm (re)starts the quiet timer, and the max timer for a new batch.
func (b *batcher) arm() {
	if b.quietTimer == nil {
		b.quietTimer = time.NewTimer(b.quietD)
	} else {
		b.quietTimer.Reset(b.quietD)
	}
	b.quiet = b.quietTimer.C
	if b.maxT == nil {
		b.maxTimer = time.NewTimer(b.maxD)
		b.maxT = b.maxTimer.C
	}
}

// ready moves the dirty paths into the pending batch.
func (b *batcher) ready() {
	b.stopTimers()
	if len(b.dirty) == 0 && !b.rescan {
		return
	}
	if b.pending == nil {
		b.pending = &Changes{}
	}
	seen := make(map[string]struct{}, len(b.pending.Paths)+len(b.dirty))
	for _, p := range b.pending.Paths {
		seen[p] = struct{}{}
	}
	for p := range b.dirty {
		if _, ok := seen[p]; !ok {
			b.pending.Paths = append(b.pending.Paths, p)
		}
	}
	slices.Sort(b.pending.Paths)
	b.pending.Rescan = b.pending.Rescan || b.rescan
	clear(b.dirty)
	b.rescan = false
}

func (b *batcher) stopTimers() {
	if b.quietTimer != nil {
		b.quietTimer.Stop()
	}
	if b.maxTimer != nil {
		b.maxTimer.Stop()
	}
	b.quiet, b.maxT, b.maxTimer = nil, nil, nil
}
