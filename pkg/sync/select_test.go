package sync_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	psync "github.com/paude-dev/paude/pkg/sync"
)

func TestNewChoosesByMethod(t *testing.T) {
	p := newPair(t)
	o := p.options(t)
	o.DevSpace = psync.DevSpaceTarget{Pod: "pod-1"}
	for method, want := range map[string]string{"native": "*sync.Native", "devspace": "*sync.DevSpace", "auto": "*sync.Native", "": "*sync.Native"} {
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
}

func typeName(v any) string {
	switch v.(type) {
	case *psync.Native:
		return "*sync.Native"
	case *psync.DevSpace:
		return "*sync.DevSpace"
	}
	return "?"
}

// TestAutoIsNativeEvenWithDevSpaceInstalled: auto never runs DevSpace,
// which does not check what the pod sends; a devspace CLI on PATH is not
// even looked at.
func TestAutoIsNativeEvenWithDevSpaceInstalled(t *testing.T) {
	p := newPair(t)
	write(t, p.local, "hello.txt", "hi")
	var warn bytes.Buffer
	o := p.options(t)
	o.Warn = &warn
	bin, _ := filepath.Abs("testdata/devspace/fake-devspace")
	rec := t.TempDir()
	t.Setenv("FAKE_DEVSPACE_DIR", rec)
	o.DevSpace = psync.DevSpaceTarget{Binary: bin, Pod: "pod-1"}
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
	if s.Status().Engine != "native" || warn.Len() != 0 {
		t.Fatalf("engine %q, warnings %q", s.Status().Engine, warn.String())
	}
	if entries, _ := os.ReadDir(rec); len(entries) != 0 {
		t.Fatalf("devspace ran: %v", entries)
	}
}

// TestChosenDevSpaceNotInstalled: a chosen DevSpace that is missing is an
// error saying what to do, and nothing is synced by another engine.
func TestChosenDevSpaceNotInstalled(t *testing.T) {
	p := newPair(t)
	write(t, p.local, "x.txt", "x")
	o := p.options(t)
	o.DevSpace = psync.DevSpaceTarget{Binary: filepath.Join(t.TempDir(), "devspace"), Pod: "pod-1"}
	s, err := psync.New("devspace", o)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start(ctxT(t))
	if !psync.IsUnavailable(err) || !strings.Contains(err.Error(), "install DevSpace or set sync.method to native") {
		t.Fatalf("got %v", err)
	}
	if exists(p.pod, "x.txt") {
		t.Fatal("synced without DevSpace")
	}
}

// TestBrokenDevSpaceFails: an installed DevSpace that fails is an error,
// not a reason to switch engines.
func TestBrokenDevSpaceFails(t *testing.T) {
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
	s, err := psync.New("devspace", o)
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
