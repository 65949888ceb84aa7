package sync_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/remote"
)

// pidExec runs commands like remotetest.Local and remembers their process
// IDs, so that the helper's memory can be read from /proc.
type pidExec struct {
	mu    stdsync.Mutex
	procs map[string][]int
}

func (e *pidExec) Exec(ctx context.Context, cmd remote.Cmd) error {
	c := exec.CommandContext(ctx, cmd.Argv[0], cmd.Argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	if err := c.Start(); err != nil {
		return err
	}
	e.mu.Lock()
	mode := cmd.Argv[len(cmd.Argv)-1]
	e.procs[mode] = append(e.procs[mode], c.Process.Pid)
	e.mu.Unlock()
	err := c.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return &remote.ExitError{Argv: cmd.Argv, Code: ee.ExitCode()}
	}
	return err
}

func (e *pidExec) last(mode string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.procs[mode]
	return p[len(p)-1]
}

// peakRSS reads a process's high-water resident set size, in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// BenchmarkWatchRSS100k: the watch helper's peak RSS while watching
// 100,000 files (PAUDE_SYNC_BENCH_FILES overrides the count), on a first
// start (the helper sees the whole initial push arrive) and on a resume
// (it walks and lists a full tree), against the same helper on an empty
// tree. Goal: at most 50 MB.
func BenchmarkWatchRSS100k(b *testing.B) {
	if testing.Short() {
		b.Skip("100,000 files are not for -short")
	}
	files := 100_000
	if v, err := strconv.Atoi(os.Getenv("PAUDE_SYNC_BENCH_FILES")); err == nil && v > 0 {
		files = v
	}
	base := b.TempDir()
	measure := func(local, pod, cache string, edits int) int64 {
		ex := &pidExec{procs: map[string][]int{}}
		n := benchEngine(b, ex, local, pod, cache)
		if err := n.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		for i := range edits {
			rel := fmt.Sprintf("d%04d/f%03d.dat", i, i%100)
			content := fmt.Sprintf("pod edit %d", i)
			if err := os.WriteFile(filepath.Join(pod, rel), []byte(content), 0o644); err != nil {
				b.Fatal(err)
			}
			for got, _ := os.ReadFile(filepath.Join(local, rel)); string(got) != content; got, _ = os.ReadFile(filepath.Join(local, rel)) {
				time.Sleep(time.Millisecond)
			}
		}
		rss := peakRSS(b, ex.last("watch"))
		if err := n.Stop(context.Background()); err != nil {
			b.Fatal(err)
		}
		return rss
	}
	emptyL, emptyP := freshDir(b, base, "empty-local"), freshDir(b, base, "empty-pod")
	baseline := measure(emptyL, emptyP, filepath.Join(base, "cache-empty"), 0)
	local := filepath.Join(base, "local")
	makeTree(b, local, files, 16)
	b.ResetTimer()
	var first, resume int64
	for range b.N {
		b.StopTimer()
		pod := freshDir(b, base, "pod")
		cache := filepath.Join(base, "cache")
		_ = os.RemoveAll(cache)
		b.StartTimer()
		first = measure(local, pod, cache, 50)
		resume = measure(local, pod, cache, 50)
	}
	b.StopTimer()
	mb := func(v int64) float64 { return float64(v) / (1 << 20) }
	b.ReportMetric(mb(baseline), "empty-MiB")
	b.ReportMetric(mb(first), "first-MiB")
	b.ReportMetric(mb(resume), "resume-MiB")
	b.ReportMetric(float64(max(first, resume))/float64(baseline), "x-empty")
	b.Logf("watch helper peak RSS with %d files: first start %.1f MiB, resume %.1f MiB; on an empty tree %.1f MiB",
		files, mb(first), mb(resume), mb(baseline))
}
