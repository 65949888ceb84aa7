package progress

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
)

// clock advances by a second each time it is read.
func clock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		run  func(r *Reporter)
		want string
	}{
		{
			name: "bytes with a total",
			run: func(r *Reporter) {
				s := r.Start("Pushing image x", Bytes, 3<<20)
				s.Add(1 << 20)
				s.Add(2 << 20)
				s.Done(nil)
			},
			want: "Pushing image x\nPushing image x: done in 1s (3.0 MiB)\n",
		},
		{
			name: "items, status changes once each",
			run: func(r *Reporter) {
				s := r.Start("Building image y", Items, 9)
				s.Status("STEP 1/9: FROM debian")
				s.Status("STEP 1/9: FROM debian")
				s.SetCurrent(2)
				s.Status("STEP 2/9: RUN true")
				s.Done(nil)
			},
			want: "Building image y\nBuilding image y: STEP 1/9: FROM debian\nBuilding image y: STEP 2/9: RUN true\nBuilding image y: done in 1s (2/9)\n",
		},
		{
			name: "failure, a second Done ignored",
			run: func(r *Reporter) {
				s := r.Start("Waiting for pod p", Items, 0)
				s.Status("Pending: ContainerCreating")
				s.Done(errors.New("boom"))
				s.Done(nil)
				s.Status("late")
			},
			want: "Waiting for pod p\nWaiting for pod p: Pending: ContainerCreating\nWaiting for pod p: failed after 1s\n",
		},
		{
			name: "escape sequences from elsewhere never reach the output",
			run: func(r *Reporter) {
				s := r.Start("Waiting for pod \x1b]0;owned\x07p", Items, 0)
				s.Status("Pending: \x1b[2Jcleared\r\n")
				s.Done(nil)
			},
			want: "Waiting for pod p\nWaiting for pod p: Pending: cleared\nWaiting for pod p: done in 1s\n",
		},
		{
			name: "messages are written as they are",
			run: func(r *Reporter) {
				_, _ = r.Write([]byte("Creating proxy paude-proxy-1\n"))
			},
			want: "Creating proxy paude-proxy-1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := New(&out, Lines)
			r.now = clock()
			tt.run(r)
			if out.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", out.String(), tt.want)
			}
		})
	}
}

func TestQuietPrintsNothing(t *testing.T) {
	var out bytes.Buffer
	r := ForTerminal(&out, true)
	s := r.Start("Pushing image x", Bytes, 10)
	s.Add(10)
	s.Status("halfway")
	s.Done(nil)
	_, _ = r.Write([]byte("Creating proxy\n"))
	if out.Len() != 0 {
		t.Errorf("quiet printed %q", out.String())
	}
	_, _ = r.Write([]byte("Warning: the registry's TLS certificate is not checked\n"))
	if out.String() != "Warning: the registry's TLS certificate is not checked\n" {
		t.Errorf("quiet hid a warning: %q", out.String())
	}
}

func TestForTerminalIsLinesOnAPipe(t *testing.T) {
	if r := ForTerminal(&bytes.Buffer{}, false); r.mode != Lines {
		t.Errorf("mode %v on a buffer, want Lines", r.mode)
	}
	r := New(&bytes.Buffer{}, Bars)
	if For(r) != r {
		t.Error("For did not return the Reporter itself")
	}
	if For(&bytes.Buffer{}).mode != Lines {
		t.Error("For of a plain writer is not Lines")
	}
}

// syncBuffer is a bytes.Buffer mpb's goroutine and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeTerminal is an 80x24 terminal writing into a buffer.
type fakeTerminal struct{ mpb.ConsoleWriter }

func (fakeTerminal) IsTerminal() bool               { return true }
func (fakeTerminal) GetTermSize() (int, int, error) { return 80, 24, nil }

// TestBars draws bars into a buffer treated as a terminal: two steps at
// once, a message above them, one failing. The real terminal is tested
// through tmux by the cluster suite.
func TestBars(t *testing.T) {
	var out syncBuffer
	r := New(&out, Bars)
	r.barOptions = []mpb.ContainerOption{mpb.WithConsoleWriter(fakeTerminal{cupwriter.New(&out, true)})}
	push := r.Start("Pushing image x", Bytes, 4<<20)
	wait := r.Start("Waiting for pod p", Nothing, 0)
	wait.Status("Pending: ContainerCreating")
	_, _ = r.Write([]byte("Creating proxy paude-proxy-1\n"))
	push.Add(4 << 20)
	push.Done(nil)
	wait.Done(errors.New("timed out"))
	got := out.String()
	for _, want := range []string{"Pushing image x", "done", "Waiting for pod p", "failed", "Creating proxy paude-proxy-1"} {
		if !strings.Contains(got, want) {
			t.Errorf("the bars never showed %q:\n%q", want, got)
		}
	}
	if r.bars != nil || r.active != 0 {
		t.Errorf("bars left running after every step ended")
	}
	// A message once no step runs goes straight out.
	_, _ = r.Write([]byte("after\n"))
	if !strings.HasSuffix(out.String(), "after\n") {
		t.Errorf("message after the bars: %q", out.String())
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
