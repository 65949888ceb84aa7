package sync

import "time"

// progress counts files and bytes for a Progress callback, calling it at
// most every 100ms and once at the end of each phase.
type progress struct {
	fn   func(Progress)
	cur  Progress
	last time.Time
}

func newProgress(fn func(Progress)) *progress { return &progress{fn: fn} }

// phase starts a phase with known totals.
func (p *progress) phase(name string, files, bytes int64) {
	if p == nil || p.fn == nil {
		return
	}
	p.cur = Progress{Phase: name, TotalFiles: files, TotalBytes: bytes}
	p.fn(p.cur)
	p.last = time.Now()
}

func (p *progress) add(files int, bytes int64) {
	if p == nil || p.fn == nil {
		return
	}
	p.cur.Files += int64(files)
	p.cur.Bytes += bytes
	if time.Since(p.last) >= 100*time.Millisecond || p.cur.Files == p.cur.TotalFiles {
		p.fn(p.cur)
		p.last = time.Now()
	}
}
