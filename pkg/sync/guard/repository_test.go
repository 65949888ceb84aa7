package guard

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/sync/wire"
)

// A session must not assemble a bare repository's shape in any directory
// of the workspace, in any order: git's discovery would take that
// directory for a repository and the user's next git command below it
// would read its config (core.pager, core.fsmonitor run programs). The
// control builds the same shape with the session helper's policy and
// shows real git takes it for a repository.
func TestRepositoryShapeIsRefused(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	head := func(rel string) func(f *fixture) error {
		return func(f *fixture) error { _, err := f.put(rel, "ref: refs/heads/main\n", 0o644); return err }
	}
	dir := func(rel string) func(f *fixture) error {
		return func(f *fixture) error {
			_, err := f.ws.Mkdir(&wire.Entry{Op: wire.OpPut, Kind: wire.KindDir, Path: rel, Mode: 0o755})
			return err
		}
	}
	commondir := func(rel string) func(f *fixture) error {
		return func(f *fixture) error { _, err := f.put(rel, "../store\n", 0o644); return err }
	}
	headLink := func(rel string) func(f *fixture) error {
		return func(f *fixture) error {
			_, err := f.ws.Symlink(&wire.Entry{Op: wire.OpPut, Kind: wire.KindSymlink, Path: rel, Target: "refs/heads/main"})
			return err
		}
	}
	rename := func(from, to string) func(f *fixture) error {
		return func(f *fixture) error { _, err := f.ws.Rename(from, to); return err }
	}
	tests := []struct {
		name  string
		dir   string // the directory that would become a repository
		steps []func(f *fixture) error
	}{
		{"HEAD last", "src/evil", []func(*fixture) error{dir("src/evil"), dir("src/evil/objects"), dir("src/evil/refs"), head("src/evil/HEAD")}},
		{"HEAD first", "src/evil", []func(*fixture) error{dir("src/evil"), head("src/evil/HEAD"), dir("src/evil/refs"), dir("src/evil/objects")}},
		{"HEAD a symlink", "src/evil", []func(*fixture) error{dir("src/evil"), dir("src/evil/objects"), dir("src/evil/refs"), headLink("src/evil/HEAD")}},
		// objects and refs in a directory without HEAD are harmless alone.
		{"commondir", "src/evil", []func(*fixture) error{dir("src/store"), dir("src/store/objects"), dir("src/store/refs"),
			dir("src/evil"), head("src/evil/HEAD"), commondir("src/evil/commondir")}},
		{"renamed into place", "src/evil", []func(*fixture) error{dir("src/evil"), dir("src/evil/objects"), dir("src/evil/refs"), head("src/evil/HEAD.txt"), rename("src/evil/HEAD.txt", "src/evil/HEAD")}},
		{"other case", "src/evil", []func(*fixture) error{dir("src/evil"), dir("src/evil/Objects"), dir("src/evil/REFS"), head("src/evil/head")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Control: the helper's policy writes the shape, and git takes
			// the directory for a repository.
			ctl := newFixture(t, false)
			ctl.ws.policy.AllowRepositoryShape = true
			for _, step := range tt.steps {
				if err := step(ctl); err != nil {
					t.Fatalf("control: %v", err)
				}
			}
			if tt.name != "other case" && !isRepository(t, filepath.Join(ctl.root, tt.dir)) {
				t.Fatalf("control: git does not take %s for a repository: the probe proves nothing", tt.dir)
			}

			f := newFixture(t, false)
			var refusal *Refusal
			for _, step := range tt.steps {
				if err := step(f); err != nil {
					if !errors.As(err, &refusal) || refusal.Rule != RuleGitDir {
						t.Fatalf("refused with %v, want the git-dir rule", err)
					}
				}
			}
			if refusal == nil {
				t.Fatalf("every step was written")
			}
			if isRepository(t, filepath.Join(f.root, tt.dir)) {
				t.Errorf("git takes %s for a repository", tt.dir)
			}
		})
	}
	t.Run("a lone HEAD, refs or objects is written", func(t *testing.T) {
		f := newFixture(t, false)
		for _, step := range []func(*fixture) error{head("src/HEAD"), dir("src/refs"), dir("docs/objects")} {
			if err := step(f); err != nil {
				t.Errorf("%v", err)
			}
		}
	})
}

// isRepository reports whether git, run in dir, finds dir itself to be
// a git directory (rather than the workspace's own repository above it).
func isRepository(t *testing.T, dir string) bool {
	t.Helper()
	cmd := exec.Command("git", "rev-parse", "--absolute-git-dir")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CEILING_DIRECTORIES="+filepath.Dir(filepath.Dir(dir)))
	out, err := cmd.Output()
	return err == nil && strings.TrimSpace(string(out)) == dir
}
