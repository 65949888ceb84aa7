package gitboundary

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkFetch compares paude's fetch of one new agent commit with a
// plain `git fetch` of the same commit from the session's repository
// into an identical host clone, in the same run: the ratio is what the
// bridge, the ref listing and the new-commit summary cost. The repository
// has 2,000 files in 200 commits.
func BenchmarkFetch(b *testing.B) {
	requireGit(b)
	ws := benchRepo(b)
	plain := filepath.Join(b.TempDir(), "plain")
	git(b, filepath.Dir(plain), "clone", "-q", "--no-local", ws, plain)
	s := newSession(b, ws)
	if err := Seed(context.Background(), openRepo(b, ws), s.repo()); err != nil {
		b.Fatal(err)
	}
	host := openRepo(b, ws)
	var paude, baseline time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		writeFile(b, s.ws, fmt.Sprintf("agent/%d.txt", i), "work\n", 0o644)
		git(b, s.ws, "add", ".")
		git(b, s.ws, "commit", "-qm", fmt.Sprintf("agent %d", i))
		start := time.Now()
		if _, err := (Fetcher{}).Fetch(context.Background(), host, testSession, s.repo()); err != nil {
			b.Fatal(err)
		}
		paude += time.Since(start)
		start = time.Now()
		git(b, plain, "fetch", "-q", filepath.Join(s.ws, ".git"), "+refs/heads/*:refs/remotes/plain/*")
		baseline += time.Since(start)
	}
	b.ReportMetric(float64(paude.Microseconds())/float64(b.N)/1000, "paude-ms/op")
	b.ReportMetric(float64(baseline.Microseconds())/float64(b.N)/1000, "git-fetch-ms/op")
	b.ReportMetric(float64(paude)/float64(baseline), "paude/git-fetch")
}

// BenchmarkSeed compares seeding a session with `git clone --no-local
// --no-checkout` of the same repository, in the same run: both carry
// every object and ref; the seed also builds the index and refreshes it
// against the files already in the session's worktree.
func BenchmarkSeed(b *testing.B) {
	requireGit(b)
	ws := benchRepo(b)
	host := openRepo(b, ws)
	var seed, baseline time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := newSession(b, ws)
		start := time.Now()
		if err := Seed(context.Background(), host, s.repo()); err != nil {
			b.Fatal(err)
		}
		seed += time.Since(start)
		start = time.Now()
		git(b, b.TempDir(), "clone", "-q", "--no-local", "--no-checkout", ws, "clone")
		baseline += time.Since(start)
	}
	b.ReportMetric(float64(seed.Microseconds())/float64(b.N)/1000, "seed-ms/op")
	b.ReportMetric(float64(baseline.Microseconds())/float64(b.N)/1000, "git-clone-ms/op")
	b.ReportMetric(float64(seed)/float64(baseline), "seed/git-clone")
}

// benchRepo is a repository with 2,000 files in 200 commits.
func benchRepo(b *testing.B) string {
	b.Helper()
	ws := filepath.Join(b.TempDir(), "project")
	git(b, filepath.Dir(ws), "init", "-q", ws)
	for c := 0; c < 200; c++ {
		for f := 0; f < 10; f++ {
			writeFile(b, ws, fmt.Sprintf("pkg%02d/file%04d.go", c%20, c*10+f), fmt.Sprintf("package pkg\n\n// %d %d\nvar X = %d\n", c, f, c*f), 0o644)
		}
		git(b, ws, "add", ".")
		git(b, ws, "commit", "-qm", fmt.Sprintf("commit %d", c))
	}
	return ws
}
