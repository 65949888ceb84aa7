package image

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/paude-dev/paude/pkg/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("failed to read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update if the change is intended)\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}

// requireTool returns the path of a program the test needs, skipping the
// test when it is missing, or failing it under PAUDE_REQUIRE_ALL=1.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" is not installed (apt-get install "+name+")")
	}
	return p
}

// missing skips the test for a missing prerequisite, or fails it when
// PAUDE_REQUIRE_ALL=1.
func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
		t.Fatalf("prerequisite missing and PAUDE_REQUIRE_ALL=1: %s", why)
	}
	t.Skip("prerequisite missing: " + why)
}

// testConfig is a fixed configuration, independent of the config
// package's defaults, so golden files change only with this package.
func testConfig(workspace string) *config.Config {
	return &config.Config{
		Workspace: workspace,
		Base:      "docker.io/library/debian:bookworm-slim",
		Agent: config.Agent{
			Name:     "claude",
			Command:  "claude",
			YoloArgs: []string{"--dangerously-skip-permissions"},
			Install:  "set -eu\nnpm install -g @anthropic-ai/claude-code\nnpm cache clean --force\n",
		},
		Env:     map[string]string{"FOO": "bar"},
		Setup:   "npm ci",
		Network: config.Network{AllowedDomains: []string{".googleapis.com"}},
		Backend: config.BackendSettings{
			Resources: config.Resources{
				Requests: config.ResourceList{CPU: resource.MustParse("1"), Memory: resource.MustParse("4Gi")},
				Limits:   config.ResourceList{CPU: resource.MustParse("4"), Memory: resource.MustParse("8Gi")},
			},
		},
		Session: config.Session{IdleTimeout: 4 * 60 * 60 * 1e9, MaxLifetime: 24 * 60 * 60 * 1e9},
	}
}

// contextFile is one file of a test build context.
type contextFile struct {
	content string
	mode    os.FileMode
	link    string // symlink target instead of content
}

// makeContext writes files (slash names) under a new directory with exact
// modes, so hashes do not depend on the checkout's umask.
func makeContext(t *testing.T, files map[string]contextFile) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "ctx")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, f := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if f.link != "" {
			if err := os.Symlink(f.link, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, []byte(f.content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() {
			err = os.Chmod(p, 0o755)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}
