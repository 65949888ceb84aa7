package gitboundary

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/remote/remotetest"
)

// TestMain makes the test binary double as the bridge (DefaultBridge
// names the running binary, so Fetch runs this binary as git's ext::
// transport, as it runs paude in real use), and gives git a private HOME
// and config so that the machine's settings do not leak in.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == BridgeCommand {
		if err := RunBridge(os.Args[2], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	home, err := os.MkdirTemp("", "gitboundary-home-")
	if err != nil {
		panic(err)
	}
	cfg := filepath.Join(home, ".gitconfig")
	if err := os.WriteFile(cfg, []byte("[user]\n\tname = Test\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n"), 0o644); err != nil {
		panic(err)
	}
	// Fixed dates make object ids, and so the golden output, stable.
	for k, v := range map[string]string{
		"HOME": home, "GIT_CONFIG_GLOBAL": cfg, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
	} {
		_ = os.Setenv(k, v)
	}
	_ = os.Unsetenv("PAUDE_SIDE")
	code := m.Run()
	_ = os.RemoveAll(home)
	os.Exit(code)
}

// requireGit skips (or fails under PAUDE_REQUIRE_ALL=1) without git.
func requireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
			t.Fatalf("git is not installed: %v", err)
		}
		t.Skip("git is not installed")
	}
}

// git runs git in dir (as a user or the agent would, without paude's
// hardening) and returns its trimmed output.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

// writeFile writes content to dir/rel, creating parents.
func writeFile(t testing.TB, dir, rel, content string, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// newHostRepo makes a repository with two commits on main, a tag and a
// second branch.
func newHostRepo(t testing.TB) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "project")
	git(t, filepath.Dir(ws), "init", "-q", ws)
	writeFile(t, ws, "README", "hello\n", 0o644)
	writeFile(t, ws, "src/main.go", "package main\n", 0o644)
	git(t, ws, "add", ".")
	git(t, ws, "commit", "-qm", "first")
	git(t, ws, "tag", "v1")
	writeFile(t, ws, "README", "hello again\n", 0o644)
	git(t, ws, "commit", "-qam", "second")
	git(t, ws, "branch", "topic", "HEAD~1")
	return ws
}

// session is a directory standing in for the session's container: a copy
// of the host's worktree files (what the bind mount or sync shows the
// agent) and an executor running there with PAUDE_SIDE=session, which
// marker commands record.
type session struct {
	root string
	ws   string
	exec *remotetest.Local
}

func newSession(t testing.TB, hostWS string) *session {
	t.Helper()
	root := t.TempDir()
	ws := filepath.Join(root, "workspace")
	copyTree(t, hostWS, ws)
	env := append(os.Environ(), "PAUDE_SIDE=session")
	return &session{root: root, ws: ws, exec: &remotetest.Local{Dir: ws, Env: env}}
}

// repo is the session's repository with the default layout.
func (s *session) repo() SessionRepo { return SessionRepo{Exec: s.exec, Workspace: s.ws} }

// agentGit runs git in the session's worktree as the agent would, in the
// session's environment.
func (s *session) agentGit(t *testing.T, args ...string) string {
	t.Helper()
	out, err := s.tryGit(args...)
	if err != nil {
		t.Fatalf("git %s in the session: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// tryGit is agentGit that returns the error instead of failing.
func (s *session) tryGit(args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = s.ws, s.exec.Env
	out, err := cmd.CombinedOutput()
	return strings.TrimRight(string(out), "\n"), err
}

// copyTree copies regular files and directories, leaving out .git.
func copyTree(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(dst, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// treeHashes maps every file and symlink below dir (relative, slash) to
// a hash of its content (or link target) and mode. skip returns true for
// relative paths to leave out.
func treeHashes(t testing.TB, dir string, skip func(rel string) bool) map[string]string {
	t.Helper()
	hashes := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if skip != nil && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var content []byte
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			content = []byte("link:" + target)
		} else if content, err = os.ReadFile(p); err != nil {
			return err
		}
		sum := sha256.Sum256(content)
		hashes[rel] = fmt.Sprintf("%s %v", hex.EncodeToString(sum[:]), info.Mode())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hashes
}

// diffHashes lists added, changed and removed paths between two maps.
func diffHashes(before, after map[string]string) (added, changed, removed []string) {
	for p, h := range after {
		switch old, ok := before[p]; {
		case !ok:
			added = append(added, p)
		case old != h:
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			removed = append(removed, p)
		}
	}
	sort.Strings(added)
	sort.Strings(changed)
	sort.Strings(removed)
	return added, changed, removed
}

// openRepo is OpenRepo that fails the test on error.
func openRepo(t testing.TB, ws string) *Repo {
	t.Helper()
	r, err := OpenRepo(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
