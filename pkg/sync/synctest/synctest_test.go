package synctest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/paude-dev/paude/pkg/remote/remotetest"
)

func TestTreeAndBigFile(t *testing.T) {
	dir := t.TempDir()
	n, err := Tree(filepath.Join(dir, "a"), 250, 10, 7)
	if err != nil || n != 2500 {
		t.Fatalf("Tree = %d, %v", n, err)
	}
	if _, err := Tree(filepath.Join(dir, "b"), 250, 10, 7); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"d0000/f000.dat", "d0002/f049.dat"} {
		a, err1 := os.ReadFile(filepath.Join(dir, "a", rel))
		b, err2 := os.ReadFile(filepath.Join(dir, "b", rel))
		if err1 != nil || err2 != nil || len(a) != 10 || !bytes.Equal(a, b) {
			t.Fatalf("%s: %q %v, %q %v: want 10 equal bytes for one seed", rel, a, err1, b, err2)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "d0003")); err == nil {
		t.Fatal("more directories than 250 files need")
	}
	big := filepath.Join(dir, "big", "x.bin")
	if err := BigFile(big, 3<<20+8, 1); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(big); err != nil || fi.Size() != 3<<20+8 {
		t.Fatalf("big file %v, %v", fi, err)
	}
}

func TestTarOver(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	if _, err := Tree(src, 20, 100, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := TarOver(&remotetest.Local{}, src, dst); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(src, "d0000", "f019.dat"))
	b, err := os.ReadFile(filepath.Join(dst, "d0000", "f019.dat"))
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("not copied: %v", err)
	}
	if _, err := TarOver(&remotetest.Local{}, src, filepath.Join(dst, "missing")); err == nil {
		t.Fatal("a failing tar x is no error")
	}
}
