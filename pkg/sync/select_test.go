package sync_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	psync "github.com/paude-dev/paude/pkg/sync"
)

// fakeSyncer is a strategy whose Start and Once return err.
type fakeSyncer struct {
	name    string
	err     error
	started bool
}

func (f *fakeSyncer) Engine() string { return f.name }
func (f *fakeSyncer) Available() error {
	if psync.IsUnavailable(f.err) {
		return f.err
	}
	return nil
}
func (f *fakeSyncer) Start(context.Context) error { f.started = f.err == nil; return f.err }
func (f *fakeSyncer) Once(context.Context) error  { return f.err }
func (f *fakeSyncer) Flush(context.Context) error { return nil }
func (f *fakeSyncer) Stop(context.Context) error  { return nil }
func (f *fakeSyncer) Status() psync.Status        { return psync.Status{Engine: f.name} }

func TestFallback(t *testing.T) {
	unavailable := &psync.UnavailableError{Engine: "devspace", Reason: "the devspace CLI is not on PATH"}
	broken := errors.New("devspace failed: pod not found")
	cases := []struct {
		name       string
		first      error
		second     error
		wantErr    error
		wantEngine string
		wantWarn   string
	}{
		{"first works", nil, nil, nil, "devspace", ""},
		{"only unavailable falls through", unavailable, nil, nil, "native",
			"WARNING: devspace sync is not available: the devspace CLI is not on PATH; using native sync\n"},
		{"a real failure does not fall through", broken, nil, broken, "devspace", ""},
		{"the last strategy's error is the answer", unavailable, broken, broken, "native",
			"WARNING: devspace sync is not available: the devspace CLI is not on PATH; using native sync\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var warn bytes.Buffer
			a, b := &fakeSyncer{name: "devspace", err: c.first}, &fakeSyncer{name: "native", err: c.second}
			f := &psync.Fallback{Strategies: []psync.Syncer{a, b}, Warn: &warn}
			err := f.Start(context.Background())
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if warn.String() != c.wantWarn {
				t.Fatalf("warning %q, want %q", warn.String(), c.wantWarn)
			}
			if err == nil && f.Status().Engine != c.wantEngine {
				t.Fatalf("engine %q", f.Status().Engine)
			}
			if errors.Is(c.first, broken) && b.started {
				t.Fatal("fell through on a real failure")
			}
		})
	}
}

func TestNewChoosesByMethod(t *testing.T) {
	p := newPair(t)
	o := p.options(t)
	o.DevSpace = psync.DevSpaceTarget{Pod: "pod-1"}
	for method, want := range map[string]string{"native": "*sync.Native", "devspace": "*sync.DevSpace", "auto": "*sync.Fallback", "": "*sync.Fallback"} {
		s, err := psync.New(method, o)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if got := typeName(s); got != want {
			t.Errorf("method %q gave %s, want %s", method, got, want)
		}
	}
	if _, err := psync.New("rsync", o); err == nil || !strings.Contains(err.Error(), `unknown sync method "rsync"`) {
		t.Fatalf("got %v", err)
	}
	// Without a pod for DevSpace, auto is native alone.
	o.DevSpace = psync.DevSpaceTarget{}
	if s, _ := psync.New("auto", o); typeName(s) != "*sync.Native" {
		t.Fatalf("got %s", typeName(s))
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *psync.Native:
		return "*sync.Native"
	case *psync.DevSpace:
		return "*sync.DevSpace"
	case *psync.Fallback:
		return "*sync.Fallback"
	}
	return "?"
}

// TestAutoWithoutDevSpaceRunsNative is the real selection: no devspace
// CLI, one WARNING line, and the native engine syncs.
func TestAutoWithoutDevSpaceRunsNative(t *testing.T) {
	p := newPair(t)
	write(t, p.local, "hello.txt", "hi")
	var warn bytes.Buffer
	o := p.options(t)
	o.Warn = &warn
	o.DevSpace = psync.DevSpaceTarget{Binary: filepath.Join(t.TempDir(), "devspace"), Pod: "pod-1"}
	s, err := psync.New("auto", o)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Stop(ctx) }()
	if got, _ := read(p.pod, "hello.txt"); got != "hi" {
		t.Fatalf("not synced: %q", got)
	}
	if lines := strings.Count(warn.String(), "\n"); lines != 1 || !strings.HasPrefix(warn.String(), "WARNING: devspace sync is not available") {
		t.Fatalf("warning %q", warn.String())
	}
	if s.Status().Engine != "native" {
		t.Fatalf("engine %q", s.Status().Engine)
	}
}

// TestAutoWithBrokenDevSpaceFails: an installed DevSpace that fails is an
// error, not a reason to switch engines.
func TestAutoWithBrokenDevSpaceFails(t *testing.T) {
	p := newPair(t)
	write(t, p.local, "x.txt", "x")
	var warn bytes.Buffer
	o := p.options(t)
	o.Warn = &warn
	bin, _ := filepath.Abs("testdata/devspace/fake-devspace")
	tr, _ := filepath.Abs("testdata/devspace/fails.txt")
	t.Setenv("FAKE_DEVSPACE_DIR", t.TempDir())
	t.Setenv("FAKE_DEVSPACE_TRANSCRIPT", tr)
	o.DevSpace = psync.DevSpaceTarget{Binary: bin, Pod: "pod-1"}
	s, err := psync.New("auto", o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctxT(t)); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("got %v", err)
	}
	if warn.Len() != 0 || exists(p.pod, "x.txt") {
		t.Fatalf("fell back: %q", warn.String())
	}
}
