package hostrun

import (
	"context"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "hostrun-home-")
	if err != nil {
		panic(err)
	}
	cfg := filepath.Join(home, ".gitconfig")
	if err := os.WriteFile(cfg, []byte("[user]\n\tname = Test\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n"), 0o644); err != nil {
		panic(err)
	}
	for k, v := range map[string]string{"HOME": home, "GIT_CONFIG_GLOBAL": cfg, "GIT_CONFIG_NOSYSTEM": "1"} {
		_ = os.Setenv(k, v)
	}
	code := m.Run()
	_ = os.RemoveAll(home)
	os.Exit(code)
}

func requireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
			t.Fatalf("git is not installed: %v", err)
		}
		t.Skip("git is not installed")
	}
}

func git(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func write(t testing.TB, ws, rel, content string) {
	t.Helper()
	writeMode(t, ws, rel, content, 0o644)
}

func writeMode(t testing.TB, ws, rel, content string, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(ws, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func remove(t testing.TB, ws, rel string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(ws, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
}

func symlink(t testing.TB, ws, target, rel string) {
	t.Helper()
	p := filepath.Join(ws, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// newWorkspace is a git repository with one commit and ordinary files.
func newWorkspace(t testing.TB) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "ws")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, ws, "init", "-q")
	write(t, ws, "main.go", "package main\n")
	write(t, ws, "package.json", `{"name": "x", "version": "1.0.0", "scripts": {"test": "go test"}, "dependencies": {"a": "1"}}`)
	write(t, ws, "Makefile", "all:\n\tgo build\n")
	write(t, ws, ".github/workflows/ci.yml", "on: push\n")
	write(t, ws, "node_modules/dep/package.json", `{"scripts": {"postinstall": "true"}}`)
	git(t, ws, "add", ".")
	git(t, ws, "commit", "-qm", "init")
	return ws
}

func take(t testing.TB, ws string) *Snapshot {
	t.Helper()
	s, err := Take(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
