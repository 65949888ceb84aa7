package hostrun

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkTake measures a snapshot of a 40,000-file workspace (half of
// it in node_modules) against a bare filepath.WalkDir of the same tree
// in the same run, and reports the ratio: what paude adds to the walk
// any tool would do.
func BenchmarkTake(b *testing.B) {
	requireGit(b)
	ws := newWorkspace(b)
	for d := 0; d < 400; d++ {
		for f := 0; f < 50; f++ {
			write(b, ws, fmt.Sprintf("src/pkg%03d/file%02d.go", d, f), "package x\n")
			write(b, ws, fmt.Sprintf("node_modules/dep%03d/lib/f%02d.js", d, f), "x\n")
		}
		write(b, ws, fmt.Sprintf("node_modules/dep%03d/package.json", d), `{"scripts": {}}`)
	}
	ctx := context.Background()
	var walk, take time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		n := 0
		if err := filepath.WalkDir(ws, func(string, fs.DirEntry, error) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		walk += time.Since(start)
		start = time.Now()
		if _, err := Take(ctx, ws); err != nil {
			b.Fatal(err)
		}
		take += time.Since(start)
	}
	b.ReportMetric(float64(walk.Microseconds())/float64(b.N)/1000, "walkdir-ms/op")
	b.ReportMetric(float64(take.Microseconds())/float64(b.N)/1000, "take-ms/op")
	b.ReportMetric(float64(take)/float64(walk), "take/walkdir")
}
