//go:build integration

package kube_test

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/pkg/remote"
	psync "github.com/paude-dev/paude/pkg/sync"
	"github.com/paude-dev/paude/pkg/sync/synctest"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// BenchmarkSyncOverExec runs the workspace sync benchmarks of the issue on
// the testbed, over the real transport (client-go exec through the API
// server and the kubelet into a session pod, the helper being the built
// kubectl-paude in paude's image), each beside a baseline measured in the
// same run over the same transport (make bench-sync):
//
//   - the first sync of 10,000 files (~60 MB) and of one 1 GiB file,
//     against `tar c | tar x` with the tar x run by the same exec;
//   - edit-to-pod and pod-to-local latency, p50 and p95 over 200 edits,
//     against one exec round trip;
//   - the helper's peak RSS watching 100,000 files, against the same
//     helper watching an empty tree.
func BenchmarkSyncOverExec(b *testing.B) {
	c := kubetest.Require(b)
	ex := benchSession(b, c)
	base := b.TempDir()
	b.Run("InitialSync10k", func(b *testing.B) {
		src := filepath.Join(base, "10k")
		bytes := benchTree(b, src, 10_000, 6_000)
		benchInitial(b, ex, src, bytes)
	})
	b.Run("InitialSync1GiB", func(b *testing.B) {
		src := filepath.Join(base, "1g")
		if err := synctest.BigFile(filepath.Join(src, "big.bin"), 1<<30, 3); err != nil {
			b.Fatal(err)
		}
		benchInitial(b, ex, src, 1<<30)
	})
	b.Run("EditLatency", func(b *testing.B) { benchLatency(b, ex, base) })
	b.Run("WatchRSS100k", func(b *testing.B) { benchRSS(b, ex, base) })
}

// benchSession starts a session (open network, an empty workspace) and
// returns its transport: the exec the backend gives sync.
func benchSession(b *testing.B, c *kubetest.Cluster) remote.Executor {
	b.Helper()
	img := workspaceImage(b)
	ns := c.Namespace(b, restrictedNamespace)
	kubeconfig := tokenKubeconfig(b, c, ns, c.ServiceAccountToken(b, ns, "kt-editor", "edit"))
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	cfg := sessionConfig("", false)
	// The helpers of a 100,000-file tree need room.
	cfg.Backend.Resources.Limits.Memory = resourceGi(2)
	be, err := openshift.New(openshift.Options{ConfigFlags: flags, Config: cfg, Home: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ws := filepath.Join(b.TempDir(), "bench")
	if err := os.Mkdir(ws, 0o755); err != nil {
		b.Fatal(err)
	}
	s, err := be.StartSession(ctx, backend.SessionSpec{Image: img, Workspace: ws, AllowNetwork: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = be.StopSession(context.Background(), s.ID) })
	w, err := be.WorkspaceCopy(ctx, s.ID)
	if err != nil {
		b.Fatal(err)
	}
	return w.Exec
}

// inPod runs a shell script in the session.
func inPod(b *testing.B, ex remote.Executor, script string) string {
	b.Helper()
	var out strings.Builder
	if err := ex.Exec(context.Background(), remote.Cmd{Argv: []string{"sh", "-c", script}, Stdout: &out, Stderr: &out}); err != nil {
		b.Fatalf("%s: %v\n%s", script, err, out.String())
	}
	return out.String()
}

// podDir is a fresh, empty directory on the session's volume.
func podDir(b *testing.B, ex remote.Executor, name string) string {
	b.Helper()
	d := path.Join("/workspace/bench-dirs", name)
	inPod(b, ex, "rm -rf "+d+" && mkdir -p "+d)
	return d
}

// benchTree writes files of size bytes below root, 100 a directory,
// incompressible.
func benchTree(b *testing.B, root string, files, size int) int64 {
	b.Helper()
	n, err := synctest.Tree(root, files, size, 1)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// benchEngine is the native engine from local to pod over ex, with the
// image's helper and a fresh state (a first sync).
func benchEngine(b *testing.B, ex remote.Executor, local, pod string) *psync.Native {
	b.Helper()
	return benchEngineCache(b, ex, local, pod, b.TempDir())
}

// benchEngineCache is benchEngine keeping its state in cache.
func benchEngineCache(b *testing.B, ex remote.Executor, local, pod, cache string) *psync.Native {
	b.Helper()
	n, err := psync.NewNative(psync.Options{
		Exec: ex, LocalRoot: local, RemoteRoot: pod, HelperPath: image.HelperPath,
		SessionID: "bench", PodName: "bench-pod", CacheDir: cache,
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// tarOverExec is the floor: `tar c` here piped into `tar x` run by ex.
func tarOverExec(b *testing.B, ex remote.Executor, src, dst string) time.Duration {
	b.Helper()
	d, err := synctest.TarOver(ex, src, dst)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// benchInitial times tar and the engine's first sync, three rounds, and
// reports the medians and the median of the paired ratios. The two take
// turns going first, and each starts with the volume's dirty pages
// written out (sync, untimed): a copy must not pay for the writeback of
// the one before it.
func benchInitial(b *testing.B, ex remote.Executor, src string, bytes int64) {
	b.Helper()
	var tars, natives, ratios []time.Duration
	b.ResetTimer()
	for round := range 3 * b.N {
		var tarTime, nativeTime time.Duration
		runTar := func() {
			dst := podDir(b, ex, "tar")
			inPod(b, ex, "sync")
			tarTime = tarOverExec(b, ex, src, dst)
		}
		runNative := func() {
			dst := podDir(b, ex, "native")
			inPod(b, ex, "sync")
			n := benchEngine(b, ex, src, dst)
			start := time.Now()
			if err := n.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			nativeTime = time.Since(start)
			if err := n.Stop(context.Background()); err != nil {
				b.Fatal(err)
			}
			if got := strings.TrimSpace(inPod(b, ex, "du -sb "+dst+" | cut -f1")); got == "" || mustAtoi(b, got) < bytes {
				b.Fatalf("the engine copied %s bytes, want at least %d", got, bytes)
			}
		}
		if round%2 == 0 {
			runTar()
			runNative()
		} else {
			runNative()
			runTar()
		}
		tars, natives = append(tars, tarTime), append(natives, nativeTime)
		ratios = append(ratios, time.Duration(1000*float64(nativeTime)/float64(tarTime)))
	}
	b.StopTimer()
	t, n, r := medianOf(tars), medianOf(natives), float64(medianOf(ratios))/1000
	b.ReportMetric(float64(t.Milliseconds()), "tar-ms")
	b.ReportMetric(float64(n.Milliseconds()), "native-ms")
	b.ReportMetric(r, "x-tar")
	b.ReportMetric(float64(bytes)/n.Seconds()/(1<<20), "native-MiB/s")
	b.Logf("first sync over client-go exec, %d rounds: native %v, tar c | exec tar x %v (medians); median ratio %.2fx the floor", len(tars), n, t, r)
}

func medianOf(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func mustAtoi(b *testing.B, s string) int64 {
	b.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return v
}
