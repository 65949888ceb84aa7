package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// New returns the Syncer for a sync.method: "native", "devspace", or
// "auto" (DevSpace when its CLI is on PATH, else native; see Fallback).
func New(method string, o Options) (Syncer, error) {
	switch method {
	case MethodNative:
		return NewNative(o)
	case MethodDevSpace:
		return NewDevSpace(o)
	case MethodAuto, "":
		native, err := NewNative(o)
		if err != nil {
			return nil, err
		}
		ds, err := NewDevSpace(o)
		if err != nil {
			// No pod to point DevSpace at (a backend without one): native
			// is the only strategy.
			return native, nil //nolint:nilerr // not an error for auto
		}
		return &Fallback{Strategies: []Syncer{ds, native}, Warn: o.Warn}, nil
	}
	return nil, fmt.Errorf("unknown sync method %q: use %q, %q or %q", method, MethodAuto, MethodDevSpace, MethodNative)
}

// Fallback runs the first of its strategies that is available. Only an
// *UnavailableError moves on to the next one, with one WARNING line on
// Warn; any other failure is the answer (a DevSpace that is installed but
// fails is a real problem, not a reason to sync differently).
type Fallback struct {
	Strategies []Syncer
	Warn       io.Writer
	active     Syncer
}

// Engine implements Syncer: the engine in use, or the first one that
// would be tried.
func (f *Fallback) Engine() string {
	if f.active != nil {
		return f.active.Engine()
	}
	for _, s := range f.Strategies {
		if s.Available() == nil {
			return s.Engine()
		}
	}
	return ""
}

// Available implements Syncer.
func (f *Fallback) Available() error {
	var err error
	for _, s := range f.Strategies {
		if err = s.Available(); err == nil {
			return nil
		}
	}
	return err
}

func (f *Fallback) try(ctx context.Context, run func(Syncer, context.Context) error) error {
	if f.active != nil {
		return run(f.active, ctx)
	}
	for i, s := range f.Strategies {
		err := run(s, ctx)
		if err == nil {
			f.active = s
			return nil
		}
		if !IsUnavailable(err) || i == len(f.Strategies)-1 {
			return err
		}
		if f.Warn != nil {
			_, _ = fmt.Fprintf(f.Warn, "WARNING: %v; using %s sync\n", err, f.Strategies[i+1].Engine())
		}
	}
	return errors.New("no sync engine configured")
}

// Start implements Syncer.
func (f *Fallback) Start(ctx context.Context) error {
	return f.try(ctx, func(s Syncer, ctx context.Context) error { return s.Start(ctx) })
}

// Once implements Syncer.
func (f *Fallback) Once(ctx context.Context) error {
	return f.try(ctx, func(s Syncer, ctx context.Context) error { return s.Once(ctx) })
}

// Flush implements Syncer.
func (f *Fallback) Flush(ctx context.Context) error {
	if f.active == nil {
		return errors.New("sync is not running: start it first")
	}
	return f.active.Flush(ctx)
}

// Stop implements Syncer.
func (f *Fallback) Stop(ctx context.Context) error {
	if f.active == nil {
		return nil
	}
	return f.active.Stop(ctx)
}

// Status implements Syncer.
func (f *Fallback) Status() Status {
	if f.active == nil {
		return Status{Engine: f.Engine(), State: StateIdle}
	}
	return f.active.Status()
}
