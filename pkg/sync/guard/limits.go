package guard

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound what the session can make sync write.
type Limits struct {
	// MaxFileSize is the largest file accepted from the session.
	MaxFileSize int64
	// MaxBatchBytes is the most content accepted in one batch.
	MaxBatchBytes int64
	// MaxBatchEntries is the most entries one batch may declare.
	MaxBatchEntries int
	// EntryRate is how many entries per second are applied locally once
	// EntryBurst is spent; a faster session is slowed down, not obeyed.
	EntryRate  float64
	EntryBurst int
}

// DefaultLimits are generous for real projects (a 2 GiB data file, a
// build writing a hundred thousand files) and stop a pod that tries to
// fill the disk or bury the host in entries.
func DefaultLimits() Limits {
	return Limits{
		MaxFileSize:     2 << 30,
		MaxBatchBytes:   8 << 30,
		MaxBatchEntries: 500_000,
		EntryRate:       5_000,
		EntryBurst:      200_000,
	}
}

// WithDefaults fills zero fields from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	if l.MaxBatchBytes <= 0 {
		l.MaxBatchBytes = d.MaxBatchBytes
	}
	if l.MaxBatchEntries <= 0 {
		l.MaxBatchEntries = d.MaxBatchEntries
	}
	if l.EntryRate <= 0 {
		l.EntryRate = d.EntryRate
	}
	if l.EntryBurst <= 0 {
		l.EntryBurst = d.EntryBurst
	}
	return l
}

// Throttle paces entries from the session with a token bucket.
type Throttle struct {
	lim   *rate.Limiter
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// NewThrottle returns a Throttle for l's rate and burst.
func NewThrottle(l Limits) *Throttle {
	l = l.WithDefaults()
	return &Throttle{
		lim: rate.NewLimiter(rate.Limit(l.EntryRate), l.EntryBurst),
		now: time.Now,
		sleep: func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
}

// Take spends n tokens, sleeping while the bucket refills; delayed says
// whether it had to wait (so the caller reports the session as too fast).
func (t *Throttle) Take(ctx context.Context, n int) (delayed bool, err error) {
	for n > 0 {
		chunk := min(n, t.lim.Burst())
		r := t.lim.ReserveN(t.now(), chunk)
		if !r.OK() {
			return delayed, context.DeadlineExceeded
		}
		if d := r.DelayFrom(t.now()); d > 0 {
			delayed = true
			if err := t.sleep(ctx, d); err != nil {
				r.CancelAt(t.now())
				return delayed, err
			}
		}
		n -= chunk
	}
	return delayed, nil
}
