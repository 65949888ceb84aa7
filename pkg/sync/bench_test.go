package sync_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paude-dev/paude/pkg/remote"
	"github.com/paude-dev/paude/pkg/remote/remotetest"
	psync "github.com/paude-dev/paude/pkg/sync"
	"github.com/paude-dev/paude/pkg/sync/synctest"
)

// Benchmarks print each result next to a baseline measured in the same
// run, as a ratio:
//
//	go test ./pkg/sync -run '^$' -bench . -benchtime 3x
//
// PAUDE_SYNC_BENCH_HELPER names another helper binary (a built paude) to
// run in the "pod" instead of this test binary.

func benchHelper(b *testing.B) string {
	if p := os.Getenv("PAUDE_SYNC_BENCH_HELPER"); p != "" {
		return p
	}
	return helperPath(b)
}

// makeTree writes files files of size bytes below root, 100 per
// directory, with incompressible content.
func makeTree(b *testing.B, root string, files, size int) int64 {
	b.Helper()
	n, err := synctest.Tree(root, files, size, 1)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// tarOver copies src into dst as `tar c | tar x`, the tar x running
// through ex: the floor for moving a tree over that transport.
func tarOver(b *testing.B, ex remote.Executor, src, dst string) time.Duration {
	b.Helper()
	d, err := synctest.TarOver(ex, src, dst)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// nativeStart times the native engine's Start (its initial sync) from
// src into an empty dst, then stops it untimed.
func nativeStart(b *testing.B, ex remote.Executor, src, dst string) time.Duration {
	b.Helper()
	n := benchEngine(b, ex, src, dst, b.TempDir())
	start := time.Now()
	if err := n.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	if err := n.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
	return d
}

func benchEngine(b *testing.B, ex remote.Executor, local, pod, cache string) *psync.Native {
	b.Helper()
	fold := false
	n, err := psync.NewNative(psync.Options{
		Exec: ex, LocalRoot: local, RemoteRoot: pod, HelperPath: benchHelper(b),
		SessionID: "bench", PodName: "bench-pod", CacheDir: cache, CaseInsensitive: &fold,
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func freshDir(b *testing.B, base, name string) string {
	b.Helper()
	d := filepath.Join(base, name)
	if err := os.RemoveAll(d); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		b.Fatal(err)
	}
	return d
}

// compareInitial runs tar and the native engine alternately b.N times and
// reports medians and their ratio.
func compareInitial(b *testing.B, src string, bytes int64) {
	b.Helper()
	base := b.TempDir()
	ex := &remotetest.Local{}
	var tars, natives []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		tdst := freshDir(b, base, "tar")
		ndst := freshDir(b, base, "native")
		b.StartTimer()
		tars = append(tars, tarOver(b, ex, src, tdst))
		natives = append(natives, nativeStart(b, ex, src, ndst))
		b.StopTimer()
		if i == 0 {
			verifySame(b, src, ndst)
		}
		b.StartTimer()
	}
	b.StopTimer()
	// Each round's ratio, paired, then their median: a shared disk's
	// slow moments hit both runs of a round alike.
	ratios := make([]time.Duration, len(tars))
	for i := range tars {
		ratios[i] = time.Duration(1000 * float64(natives[i]) / float64(tars[i]))
	}
	t, n, r := median(tars), median(natives), float64(median(ratios))/1000
	b.ReportMetric(float64(t.Milliseconds()), "tar-ms")
	b.ReportMetric(float64(n.Milliseconds()), "native-ms")
	b.ReportMetric(r, "x-tar")
	b.ReportMetric(float64(bytes)/n.Seconds()/(1<<20), "native-MiB/s")
	b.Logf("initial sync over %d rounds: native %v, tar c | tar x %v (medians); median ratio %.2fx the floor", len(tars), n, t, r)
}

// verifySame checks a benchmark's copy really happened.
func verifySame(b *testing.B, src, dst string) {
	b.Helper()
	var n int
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		a, _ := os.Stat(p)
		c, err := os.Stat(filepath.Join(dst, rel))
		if err != nil || a.Size() != c.Size() {
			return fmt.Errorf("%s not copied: %w", rel, err)
		}
		n++
		return nil
	})
	if err != nil || n == 0 {
		b.Fatalf("copy incomplete after %d files: %v", n, err)
	}
}

// BenchmarkInitialSync10k: 10,000 files of 6 KB (~60 MB) against the tar
// floor. Goal: at most 1.3x.
func BenchmarkInitialSync10k(b *testing.B) {
	src := filepath.Join(b.TempDir(), "src")
	bytes := makeTree(b, src, 10_000, 6_000)
	compareInitial(b, src, bytes)
}

// BenchmarkInitialSync1GiB: one 1 GiB file against the tar floor. Skipped
// with -short, or when the temp directory has less than 4 GiB free.
func BenchmarkInitialSync1GiB(b *testing.B) {
	if testing.Short() {
		b.Skip("a 1 GiB file is not for -short")
	}
	base := b.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(base, &fs); err != nil || fs.Bavail*uint64(fs.Bsize) < 4<<30 {
		b.Skipf("needs 4 GiB free in %s", base)
	}
	src := filepath.Join(base, "src")
	if err := synctest.BigFile(filepath.Join(src, "big.bin"), 1<<30, 3); err != nil {
		b.Fatal(err)
	}
	compareInitial(b, src, 1<<30)
}

// execFloor is the median time of one exec of `true` over ex: what an
// exec per change would cost at the least.
func execFloor(b *testing.B, ex remote.Executor) time.Duration {
	b.Helper()
	var d []time.Duration
	for range 30 {
		start := time.Now()
		if err := ex.Exec(context.Background(), remote.Cmd{Argv: []string{"true"}}); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	return median(d)
}

// BenchmarkEditLatency: 200 edits, one at a time, from the write to the
// content arriving on the other side; p50 and p95 against one exec round
// trip on the same transport. Goal: p50 at most 250 ms.
func BenchmarkEditLatency(b *testing.B) {
	for _, dir := range []string{"local-to-pod", "pod-to-local"} {
		b.Run(dir, func(b *testing.B) {
			base := b.TempDir()
			local, pod := filepath.Join(base, "local"), filepath.Join(base, "pod")
			makeTree(b, local, 1000, 2000)
			if err := os.MkdirAll(pod, 0o755); err != nil {
				b.Fatal(err)
			}
			ex := &remotetest.Local{}
			floor := execFloor(b, ex)
			n := benchEngine(b, ex, local, pod, filepath.Join(base, "cache"))
			if err := n.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = n.Stop(context.Background()) }()
			from, to := local, pod
			if dir == "pod-to-local" {
				from, to = pod, local
			}
			var lat []time.Duration
			b.ResetTimer()
			for i := range 200 * b.N {
				rel := fmt.Sprintf("d%04d/f%03d.dat", i%10, i%100)
				content := fmt.Sprintf("edit %d of %s\n", i, dir)
				start := time.Now()
				if err := os.WriteFile(filepath.Join(from, rel), []byte(content), 0o644); err != nil {
					b.Fatal(err)
				}
				for {
					got, _ := os.ReadFile(filepath.Join(to, rel))
					if string(got) == content {
						break
					}
					if time.Since(start) > 30*time.Second {
						b.Fatalf("edit %d never arrived", i)
					}
					time.Sleep(200 * time.Microsecond)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			p50, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(floor.Microseconds())/1000, "exec-ms")
			b.ReportMetric(float64(p50)/float64(floor), "p50-x-exec")
			b.Logf("%s: p50 %v p95 %v over %d edits; one exec round trip %v", dir, p50, p95, len(lat), floor)
			if s := n.Status(); len(s.Conflicts)+len(s.Refused) != 0 {
				b.Fatalf("benchmark produced conflicts or refusals: %+v", s)
			}
		})
	}
}
