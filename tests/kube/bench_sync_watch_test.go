//go:build integration

package kube_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/paude-dev/paude/pkg/remote"
)

func resourceGi(n int64) resource.Quantity { return *resource.NewQuantity(n<<30, resource.BinarySI) }

// podShell is a long-lived shell in the session that runs one script per
// line it reads, the way the benchmarks observe and make changes there
// without an exec each.
type podShell struct {
	in    *io.PipeWriter
	lines chan string
	done  chan error
}

func startPodShell(b *testing.B, ex remote.Executor, script string) *podShell {
	b.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &podShell{in: inW, lines: make(chan string, 16), done: make(chan error, 1)}
	go func() {
		err := ex.Exec(context.Background(), remote.Cmd{Argv: []string{"bash", "-c", script}, Stdin: inR, Stdout: outW})
		_ = outW.CloseWithError(err)
		s.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	b.Cleanup(func() {
		_ = inW.Close()
		if err := <-s.done; err != nil {
			b.Logf("pod shell ended: %v", err)
		}
	})
	return s
}

func (s *podShell) send(b *testing.B, line string) {
	b.Helper()
	if _, err := fmt.Fprintln(s.in, line); err != nil {
		b.Fatal(err)
	}
}

func (s *podShell) wait(b *testing.B, want string) {
	b.Helper()
	select {
	case got, ok := <-s.lines:
		if !ok || got != want {
			b.Fatalf("pod shell said %q (open %v), want %q", got, ok, want)
		}
	case <-time.After(30 * time.Second):
		b.Fatalf("pod shell never said %q", want)
	}
}

// benchLatency: 200 edits each way, one at a time, from the write to the
// content being visible on the other side. In the pod a long-lived shell
// watches for the content (polling every millisecond, and answering over
// its open stream) or writes it (the time then includes the one-way trip
// of the request to the pod). The baseline is one exec round trip: what
// an exec per change would cost at the least.
func benchLatency(b *testing.B, ex remote.Executor, base string) {
	local := filepath.Join(base, "latency")
	benchTree(b, local, 1000, 2000)
	pod := podDir(b, ex, "latency")
	n := benchEngine(b, ex, local, pod)
	if err := n.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = n.Stop(context.Background()) }()
	var floor []time.Duration
	for range 30 {
		start := time.Now()
		inPod(b, ex, "true")
		floor = append(floor, time.Since(start))
	}
	watcher := startPodShell(b, ex, `cd `+pod+` && while read -r f c; do until [ "$(cat "$f" 2>/dev/null)" = "$c" ]; do sleep 0.001; done; echo ok; done`)
	writer := startPodShell(b, ex, `cd `+pod+` && while read -r f c; do printf '%s\n' "$c" > "$f"; echo ok; done`)
	for d, dir := range []string{"local-to-pod", "pod-to-local"} {
		var lat []time.Duration
		for i := range 200 * b.N {
			// Each direction edits files of its own.
			rel := fmt.Sprintf("d%04d/f%03d.dat", 5*d+i%5, i%100)
			content := fmt.Sprintf("edit-%d-%s", i, dir)
			var start time.Time
			if dir == "local-to-pod" {
				watcher.send(b, rel+" "+content)
				start = time.Now()
				if err := os.WriteFile(filepath.Join(local, rel), []byte(content+"\n"), 0o644); err != nil {
					b.Fatal(err)
				}
				watcher.wait(b, "ok")
			} else {
				start = time.Now()
				writer.send(b, rel+" "+content)
				for {
					got, _ := os.ReadFile(filepath.Join(local, rel))
					if string(got) == content+"\n" {
						break
					}
					if time.Since(start) > 30*time.Second {
						b.Fatalf("edit %d never arrived", i)
					}
					time.Sleep(200 * time.Microsecond)
				}
				writer.wait(b, "ok")
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		p50, p95, f := lat[len(lat)/2], lat[len(lat)*95/100], medianOf(floor)
		b.ReportMetric(float64(p50.Microseconds())/1000, dir+"-p50-ms")
		b.ReportMetric(float64(p95.Microseconds())/1000, dir+"-p95-ms")
		b.ReportMetric(float64(p50)/float64(f), dir+"-p50-x-exec")
		b.Logf("%s: p50 %v, p95 %v over %d edits; one exec round trip %v (p50 %.2fx)", dir, p50, p95, len(lat), f, float64(p50)/float64(f))
	}
	b.ReportMetric(float64(medianOf(floor).Microseconds())/1000, "exec-ms")
	if s := n.Status(); len(s.Conflicts)+len(s.Refused) != 0 {
		b.Fatalf("conflicts or refusals: %+v", s)
	}
}

// watchRSS is the peak RSS of the newest watch helper in the session.
func watchRSS(b *testing.B, ex remote.Executor) int64 {
	b.Helper()
	out := inPod(b, ex, `grep VmHWM /proc/$(pgrep -n -f '^/usr/local/bin/paude __sync-agent watch')/status`)
	kb, err := strconv.ParseInt(strings.Fields(out)[1], 10, 64)
	if err != nil {
		b.Fatalf("VmHWM %q: %v", out, err)
	}
	return kb << 10
}

// benchRSS: the watch helper's peak RSS with 100,000 files, on a first
// start (it sees the whole push arrive) and on a resume (it lists the
// whole tree), against the same helper on an empty tree; 50 edits from
// the pod each time.
func benchRSS(b *testing.B, ex remote.Executor, base string) {
	// hostHeap is what the engine on this machine holds while watching:
	// the live heap after a collection, over what it was before the
	// engine started (this process is the test, not a kubectl-paude, so
	// its RSS would count the benchmark's own trees).
	var hostHeap int64
	liveHeap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	measure := func(local, pod, cache string, edits int) int64 {
		before := liveHeap()
		n := benchEngineCache(b, ex, local, pod, cache)
		if err := n.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = n.Stop(context.Background()) }()
		if edits > 0 {
			inPod(b, ex, fmt.Sprintf(`cd %s && for i in $(seq 0 %d); do echo "pod edit $i" > d$(printf %%04d $i)/f000.dat; done`, pod, edits-1))
			last := filepath.Join(local, fmt.Sprintf("d%04d/f000.dat", edits-1))
			for got, _ := os.ReadFile(last); string(got) != fmt.Sprintf("pod edit %d\n", edits-1); got, _ = os.ReadFile(last) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		hostHeap = liveHeap() - before
		return watchRSS(b, ex)
	}
	empty := filepath.Join(base, "rss-empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		b.Fatal(err)
	}
	baseline := measure(empty, podDir(b, ex, "rss-empty"), b.TempDir(), 0)
	hostEmpty := hostHeap
	local := filepath.Join(base, "rss-100k")
	benchTree(b, local, 100_000, 16)
	pod := podDir(b, ex, "rss-100k")
	cache := b.TempDir()
	start := time.Now()
	first := measure(local, pod, cache, 50)
	took := time.Since(start)
	hostFirst := hostHeap
	resume := measure(local, pod, cache, 50)
	hostResume := hostHeap
	mb := func(v int64) float64 { return float64(v) / (1 << 20) }
	b.ReportMetric(mb(baseline), "empty-MiB")
	b.ReportMetric(mb(first), "first-MiB")
	b.ReportMetric(mb(resume), "resume-MiB")
	b.ReportMetric(float64(max(first, resume))/float64(baseline), "x-empty")
	b.ReportMetric(mb(max(hostFirst, hostResume)), "host-heap-MiB")
	b.Logf("watch helper peak RSS with 100,000 files: first start %.1f MiB (that start took %v), resume %.1f MiB; on an empty tree %.1f MiB",
		mb(first), took.Round(time.Second), mb(resume), mb(baseline))
	b.Logf("the engine on this machine holds %.1f MiB of live heap watching 100,000 files (first start), %.1f MiB on resume; %.1f MiB on an empty tree",
		mb(hostFirst), mb(hostResume), mb(hostEmpty))
}
