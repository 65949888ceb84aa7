// Package synctest makes workspaces for the tests and benchmarks of
// workspace sync: trees of many small files and single large files, with
// incompressible content from a seeded generator (the same seed gives the
// same bytes, so a run can be compared with the next).
package synctest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/paude-dev/paude/pkg/remote"
)

// Tree writes files files of size bytes below root, 100 a directory
// (d0000/f000.dat, ...), and returns how many bytes it wrote.
func Tree(root string, files, size int, seed uint64) (int64, error) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	buf := make([]byte, size)
	for i := range files {
		dir := filepath.Join(root, fmt.Sprintf("d%04d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return 0, err
			}
		}
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.dat", i%100)), buf, 0o644); err != nil {
			return 0, err
		}
	}
	return int64(files) * int64(size), nil
}

// BigFile writes one file of size bytes (a multiple of 8) at path.
func BigFile(path string, size int64, seed uint64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	block := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(block)) {
		for j := 0; j < len(block); j += 8 {
			v := rng.Uint64()
			for k := range 8 {
				block[j+k] = byte(v >> (8 * k))
			}
		}
		if _, err := w.Write(block[:min(int64(len(block)), left)]); err != nil {
			_ = f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// TarOver copies the tree src into dst as `tar c | tar x`, the tar x run
// through ex, and returns how long it took: the floor for moving a tree
// over that transport, which benchmarks compare sync with.
func TarOver(ex remote.Executor, src, dst string) (time.Duration, error) {
	start := time.Now()
	c := exec.Command("tar", "c", "-C", src, ".")
	out, err := c.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := c.Start(); err != nil {
		return 0, err
	}
	// A plain reader, as the engine's stream is: an *os.File would let
	// a local exec hand the pipe itself to tar x, which no remote
	// transport does.
	stdin := struct{ io.Reader }{out}
	if err := ex.Exec(context.Background(), remote.Cmd{Argv: []string{"tar", "x", "-C", dst}, Stdin: stdin}); err != nil {
		_ = c.Process.Kill()
		_ = c.Wait()
		return 0, fmt.Errorf("tar x: %w", err)
	}
	if err := c.Wait(); err != nil {
		return 0, fmt.Errorf("tar c: %w", err)
	}
	return time.Since(start), nil
}
