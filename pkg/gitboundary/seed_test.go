package gitboundary

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// refsOf lists "<oid> <ref>" of every branch and tag, and HEAD's target.
func refsOf(t *testing.T, dir string) (refs, head string) {
	t.Helper()
	refs = git(t, dir, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags")
	head = git(t, dir, "rev-parse", "--symbolic-full-name", "HEAD")
	if head == "HEAD" {
		head = git(t, dir, "rev-parse", "HEAD")
	}
	return refs, head
}

func TestSeed(t *testing.T) {
	requireGit(t)
	tests := []struct {
		name string
		// prepare changes the host repository before seeding.
		prepare func(t *testing.T, ws string)
		// status is `git status --porcelain` in the session after seeding.
		status string
	}{
		{name: "clean worktree", prepare: func(*testing.T, string) {}},
		{
			name: "changes not committed show the same in the session",
			prepare: func(t *testing.T, ws string) {
				writeFile(t, ws, "README", "changed\n", 0o644)
				writeFile(t, ws, "new.txt", "x\n", 0o644)
			},
			status: " M README\n?? new.txt",
		},
		{
			name: "staged changes show as not staged",
			prepare: func(t *testing.T, ws string) {
				writeFile(t, ws, "README", "staged\n", 0o644)
				git(t, ws, "add", "README")
			},
			status: " M README",
		},
		{name: "detached HEAD", prepare: func(t *testing.T, ws string) { git(t, ws, "checkout", "-q", "--detach", "HEAD~1") }},
		{name: "another branch checked out", prepare: func(t *testing.T, ws string) { git(t, ws, "checkout", "-q", "topic") }},
		{
			name: "remote-tracking branches go, paude's own do not",
			prepare: func(t *testing.T, ws string) {
				git(t, ws, "update-ref", "refs/remotes/origin/main", "HEAD")
				git(t, ws, "update-ref", "refs/remotes/paude/1-a/main", "HEAD")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws := newHostRepo(t)
			tc.prepare(t, ws)
			s := newSession(t, ws)
			gitBefore := treeHashes(t, filepath.Join(ws, ".git"), nil)

			if err := Seed(context.Background(), openRepo(t, ws), s.repo()); err != nil {
				t.Fatal(err)
			}

			hostRefs, hostHead := refsOf(t, ws)
			sessRefs, sessHead := refsOf(t, s.ws)
			if hostRefs != sessRefs || hostHead != sessHead {
				t.Fatalf("session refs %q HEAD %q, host %q HEAD %q", sessRefs, sessHead, hostRefs, hostHead)
			}
			if got := s.agentGit(t, "status", "--porcelain"); got != tc.status {
				t.Fatalf("session status %q, want %q", got, tc.status)
			}
			remotes := s.agentGit(t, "for-each-ref", "--format=%(refname)", "refs/remotes")
			if strings.Contains(remotes, "paude") {
				t.Fatalf("paude's refs were seeded: %q", remotes)
			}
			if tc.name == "remote-tracking branches go, paude's own do not" && remotes != "refs/remotes/origin/main" {
				t.Fatalf("remote-tracking refs %q", remotes)
			}
			// Seeding only reads the host's repository.
			if a, c, r := diffHashes(gitBefore, treeHashes(t, filepath.Join(ws, ".git"), nil)); a != nil || c != nil || r != nil {
				t.Fatalf("host .git changed: added %v changed %v removed %v", a, c, r)
			}
		})
	}
}

// TestSeedCopiesNoHostConfig: the host's config, hooks and attributes stay
// on the host; the session's config is what its own git init writes.
func TestSeedCopiesNoHostConfig(t *testing.T) {
	requireGit(t)
	ws := newHostRepo(t)
	git(t, ws, "config", "core.fsmonitor", "host-fsmonitor")
	git(t, ws, "config", "alias.st", "!echo host-alias")
	git(t, ws, "config", "user.name", "Host Only")
	writeFile(t, ws, ".git/hooks/pre-commit", "#!/bin/sh\nexit 1\n", 0o755)
	writeFile(t, ws, ".git/info/attributes", "* filter=host\n", 0o644)
	s := newSession(t, ws)
	if err := Seed(context.Background(), openRepo(t, ws), s.repo()); err != nil {
		t.Fatal(err)
	}
	cfg := s.agentGit(t, "config", "--local", "--list")
	want := "core.repositoryformatversion=0\ncore.filemode=true\ncore.bare=false\ncore.logallrefupdates=true"
	if cfg != want {
		t.Fatalf("session config:\n%s\nwant:\n%s", cfg, want)
	}
	for _, p := range []string{".git/hooks/pre-commit", ".git/info/attributes"} {
		if _, err := os.Stat(filepath.Join(s.ws, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s reached the session: %v", p, err)
		}
	}
}

func TestSeedLayouts(t *testing.T) {
	requireGit(t)
	t.Run("repository without commits", func(t *testing.T) {
		ws := filepath.Join(t.TempDir(), "empty")
		git(t, filepath.Dir(ws), "init", "-q", "-b", "trunk", ws)
		s := newSession(t, ws)
		if err := Seed(context.Background(), openRepo(t, ws), s.repo()); err != nil {
			t.Fatal(err)
		}
		if got := s.agentGit(t, "symbolic-ref", "HEAD"); got != "refs/heads/trunk" {
			t.Fatalf("HEAD %q", got)
		}
	})
	t.Run("git directory outside the worktree", func(t *testing.T) {
		// Podman's layout for a workspace whose .git is a file: the
		// session's git dir is a volume elsewhere, named by a .git file.
		ws := newHostRepo(t)
		s := newSession(t, ws)
		r := s.repo()
		r.GitDir = filepath.Join(s.root, "gitdir")
		if err := Seed(context.Background(), openRepo(t, ws), r); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(s.ws, ".git"))
		if err != nil || string(b) != "gitdir: "+r.GitDir+"\n" {
			t.Fatalf(".git file %q %v", b, err)
		}
		if got := s.agentGit(t, "status", "--porcelain"); got != "" {
			t.Fatalf("status %q", got)
		}
		if got := git(t, s.root, "--git-dir", r.GitDir, "config", "core.worktree"); got != s.ws {
			t.Fatalf("core.worktree %q", got)
		}
	})
	t.Run("linked worktree", func(t *testing.T) {
		main := newHostRepo(t)
		wt := filepath.Join(t.TempDir(), "wt")
		git(t, main, "worktree", "add", "-q", wt, "topic")
		r := openRepo(t, wt)
		if !r.GitFile || r.CommonDir != filepath.Join(mustEval(t, main), ".git") {
			t.Fatalf("repo %+v", r)
		}
		s := newSession(t, wt)
		if err := Seed(context.Background(), r, s.repo()); err != nil {
			t.Fatal(err)
		}
		if got := s.agentGit(t, "rev-parse", "--abbrev-ref", "HEAD"); got != "topic" {
			t.Fatalf("HEAD %q", got)
		}
		if got := s.agentGit(t, "status", "--porcelain"); got != "" {
			t.Fatalf("status %q", got)
		}
	})
	t.Run("shallow clone", func(t *testing.T) {
		origin := newHostRepo(t)
		ws := filepath.Join(t.TempDir(), "shallow")
		git(t, filepath.Dir(ws), "-c", "protocol.file.allow=always", "clone", "-q", "--depth", "1", "file://"+origin, ws)
		s := newSession(t, ws)
		if err := Seed(context.Background(), openRepo(t, ws), s.repo()); err != nil {
			t.Fatal(err)
		}
		if got := s.agentGit(t, "rev-parse", "--is-shallow-repository"); got != "true" {
			t.Fatalf("shallow %q", got)
		}
		s.agentGit(t, "fsck", "--connectivity-only")
		if got := s.agentGit(t, "status", "--porcelain"); got != "" {
			t.Fatalf("status %q", got)
		}
	})
	t.Run("sha256", func(t *testing.T) {
		ws := filepath.Join(t.TempDir(), "sha256")
		git(t, filepath.Dir(ws), "init", "-q", "--object-format=sha256", ws)
		writeFile(t, ws, "a", "a\n", 0o644)
		git(t, ws, "add", "a")
		git(t, ws, "commit", "-qm", "a")
		s := newSession(t, ws)
		if err := Seed(context.Background(), openRepo(t, ws), s.repo()); err != nil {
			t.Fatal(err)
		}
		if got, want := s.agentGit(t, "rev-parse", "HEAD"), git(t, ws, "rev-parse", "HEAD"); got != want || len(got) != 64 {
			t.Fatalf("HEAD %q, want %q", got, want)
		}
	})
	t.Run("a seeded session is left alone", func(t *testing.T) {
		ws := newHostRepo(t)
		s := newSession(t, ws)
		if err := Seed(context.Background(), openRepo(t, ws), s.repo()); err != nil {
			t.Fatal(err)
		}
		s.agentGit(t, "commit", "-q", "--allow-empty", "-m", "agent")
		before := treeHashes(t, filepath.Join(s.ws, ".git"), nil)
		err := Seed(context.Background(), openRepo(t, ws), s.repo())
		if !errors.Is(err, ErrSessionHasRepository) {
			t.Fatalf("got %v, want ErrSessionHasRepository", err)
		}
		if a, c, r := diffHashes(before, treeHashes(t, filepath.Join(s.ws, ".git"), nil)); a != nil || c != nil || r != nil {
			t.Fatalf("session .git changed: %v %v %v", a, c, r)
		}
	})
}

func TestOpenRepoRefuses(t *testing.T) {
	requireGit(t)
	tests := []struct {
		name    string
		prepare func(t *testing.T) string
		noRepo  bool
		want    string
	}{
		{name: "no repository", noRepo: true, want: "has no .git", prepare: func(t *testing.T) string { return t.TempDir() }},
		{name: "subdirectory of a repository", noRepo: true, want: "has no .git", prepare: func(t *testing.T) string {
			return filepath.Join(newHostRepo(t), "src")
		}},
		{name: "broken .git file", want: "invalid gitfile format", prepare: func(t *testing.T) string {
			ws := t.TempDir()
			writeFile(t, ws, ".git", "not a gitfile\n", 0o644)
			return ws
		}},
		{name: "symlinked .git", want: "is a symlink", prepare: func(t *testing.T) string {
			ws := newHostRepo(t)
			other := t.TempDir()
			if err := os.Rename(filepath.Join(ws, ".git"), filepath.Join(other, "git")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(other, "git"), filepath.Join(ws, ".git")); err != nil {
				t.Fatal(err)
			}
			return ws
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenRepo(context.Background(), tc.prepare(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrNoRepository) != tc.noRepo {
				t.Fatalf("got %v, want %q (no repository: %v)", err, tc.want, tc.noRepo)
			}
		})
	}
}

func TestSeedSubmodules(t *testing.T) {
	requireGit(t)
	lib := newHostRepo(t)
	ws := filepath.Join(t.TempDir(), "super")
	git(t, filepath.Dir(ws), "init", "-q", ws)
	git(t, ws, "-c", "protocol.file.allow=always", "submodule", "add", "-q", lib, "third_party/lib")
	git(t, ws, "commit", "-qm", "add lib")
	r := openRepo(t, ws)
	want := []Submodule{{Path: "third_party/lib", ModuleDir: "modules/third_party/lib", Repo: r.Submodules[0].Repo}}
	if !reflect.DeepEqual(r.Submodules, want) {
		t.Fatalf("submodules %+v", r.Submodules)
	}
	s := newSession(t, ws)
	if err := Seed(context.Background(), r, s.repo()); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(s.ws, "third_party/lib")
	if got, want := git(t, sub, "rev-parse", "HEAD"), git(t, filepath.Join(ws, "third_party/lib"), "rev-parse", "HEAD"); got != want {
		t.Fatalf("submodule HEAD %q, want %q", got, want)
	}
	if got := s.agentGit(t, "status", "--porcelain"); got != "" {
		t.Fatalf("status %q", got)
	}
	if got := git(t, sub, "rev-parse", "--absolute-git-dir"); got != filepath.Join(s.ws, ".git/modules/third_party/lib") {
		t.Fatalf("submodule git dir %q", got)
	}
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
