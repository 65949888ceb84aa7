package gitboundary

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testSession = "1767323045-deadbeef"

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s:\n--- got\n%s--- want\n%s", p, got, want)
	}
}

// seeded is a host repository and a session seeded from it.
func seeded(t *testing.T) (ws string, s *session) {
	t.Helper()
	ws = newHostRepo(t)
	s = newSession(t, ws)
	if err := Seed(context.Background(), openRepo(t, ws), s.repo()); err != nil {
		t.Fatal(err)
	}
	return ws, s
}

// allowedGitChange matches what a fetch may add to the host's .git outside
// objects/: this session's refs and the reflogs of its branches.
var allowedGitChange = regexp.MustCompile(`^(refs/remotes/paude/` + testSession + `/|refs/paude/` + testSession + `/tags/|logs/refs/remotes/paude/` + testSession + `/)`)

// newObjectFile matches what a fetch may add under objects/.
var newObjectFile = regexp.MustCompile(`^(pack/pack-[0-9a-f]{40}\.(pack|idx|rev)|[0-9a-f]{2}/[0-9a-f]{38})$`)

// gitSnapshot hashes the host's .git outside objects/, and objects/.
func gitSnapshot(t *testing.T, ws string) (meta, objects map[string]string) {
	t.Helper()
	meta = treeHashes(t, filepath.Join(ws, ".git"), func(rel string) bool { return rel == "objects" })
	objects = treeHashes(t, filepath.Join(ws, ".git", "objects"), nil)
	return meta, objects
}

// assertOnlyRefsAndObjects fails unless the host's .git differs from the
// snapshot only by added files: this session's refs (exactly wantRefs
// when not nil) and reflogs, and new objects or packs.
func assertOnlyRefsAndObjects(t *testing.T, ws string, meta, objects map[string]string, wantRefs []string) {
	t.Helper()
	meta2, objects2 := gitSnapshot(t, ws)
	added, changed, removed := diffHashes(meta, meta2)
	if changed != nil || removed != nil {
		t.Fatalf("host .git: changed %v removed %v", changed, removed)
	}
	var refs []string
	for _, p := range added {
		if !allowedGitChange.MatchString(p) {
			t.Fatalf("host .git: %s added (all added: %v)", p, added)
		}
		if !strings.HasPrefix(p, "logs/") {
			refs = append(refs, p)
		}
	}
	if wantRefs != nil && !reflect.DeepEqual(refs, wantRefs) {
		t.Fatalf("refs added %v, want %v", refs, wantRefs)
	}
	added, changed, removed = diffHashes(objects, objects2)
	if changed != nil || removed != nil {
		t.Fatalf("host objects: changed %v removed %v", changed, removed)
	}
	for _, p := range added {
		if !newObjectFile.MatchString(p) {
			t.Fatalf("host objects: %s added", p)
		}
	}
}

func TestSeedThenFetch(t *testing.T) {
	requireGit(t)
	ws, s := seeded(t)
	// The agent works: a commit on main, a new branch, two tags.
	writeFile(t, s.ws, "README", "the agent was here\n", 0o644)
	s.agentGit(t, "commit", "-qam", "agent: README")
	s.agentGit(t, "checkout", "-qb", "feature", "topic")
	writeFile(t, s.ws, "feature.txt", "f\n", 0o644)
	s.agentGit(t, "add", "feature.txt")
	s.agentGit(t, "commit", "-qm", "agent: feature")
	s.agentGit(t, "tag", "-a", "-m", "release", "v2")
	s.agentGit(t, "tag", "light")
	hostRefs := git(t, ws, "for-each-ref")
	meta, objects := gitSnapshot(t, ws)

	res, err := Fetcher{}.Fetch(context.Background(), openRepo(t, ws), testSession, s.repo())
	if err != nil {
		t.Fatal(err)
	}

	// Every session branch and tag is there, under paude's names.
	for _, c := range []struct{ host, session string }{
		{"refs/remotes/paude/" + testSession + "/main", "refs/heads/main"},
		{"refs/remotes/paude/" + testSession + "/feature", "refs/heads/feature"},
		{"refs/remotes/paude/" + testSession + "/topic", "refs/heads/topic"},
		{"refs/paude/" + testSession + "/tags/v2", "refs/tags/v2"},
		{"refs/paude/" + testSession + "/tags/light", "refs/tags/light"},
	} {
		if got, want := git(t, ws, "rev-parse", c.host), s.agentGit(t, "rev-parse", c.session); got != want {
			t.Errorf("%s = %s, want %s", c.host, got, want)
		}
	}
	// The user merges as from any remote.
	if got := git(t, ws, "rev-parse", "paude/"+testSession+"/main"); got != s.agentGit(t, "rev-parse", "main") {
		t.Errorf("paude/<id>/main resolves to %s", got)
	}
	if got := git(t, ws, "cat-file", "-t", "paude/"+testSession+"/tags/v2"); got != "tag" {
		t.Errorf("paude/<id>/tags/v2 is a %s", got)
	}
	// The host's own refs are untouched, byte for byte; nothing but
	// objects, this session's refs and their reflogs was added.
	if got := withoutPaudeRefs(git(t, ws, "for-each-ref")); got != hostRefs {
		t.Errorf("host refs changed:\n%s\nwant\n%s", got, hostRefs)
	}
	// v1 came from the host, unchanged: it is not fetched back.
	assertOnlyRefsAndObjects(t, ws, meta, objects, []string{
		"refs/paude/" + testSession + "/tags/light",
		"refs/paude/" + testSession + "/tags/v2",
		"refs/remotes/paude/" + testSession + "/feature",
		"refs/remotes/paude/" + testSession + "/main",
		"refs/remotes/paude/" + testSession + "/topic",
	})
	var out bytes.Buffer
	if _, err := res.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	golden(t, "fetch-first.golden", out.Bytes())

	t.Run("fetching again changes nothing", func(t *testing.T) {
		meta, objects := gitSnapshot(t, ws)
		res, err := Fetcher{}.Fetch(context.Background(), openRepo(t, ws), testSession, s.repo())
		if err != nil || len(res.Updates) != 0 || len(res.Skipped) != 0 {
			t.Fatalf("%+v %v", res, err)
		}
		meta2, objects2 := gitSnapshot(t, ws)
		if !reflect.DeepEqual(meta, meta2) || !reflect.DeepEqual(objects, objects2) {
			t.Fatal("host .git changed")
		}
	})
	t.Run("a seeded tag the agent moved is fetched", func(t *testing.T) {
		s.agentGit(t, "tag", "-f", "v1", "main")
		res, err := Fetcher{}.Fetch(context.Background(), openRepo(t, ws), testSession, s.repo())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Updates) != 1 || res.Updates[0].Name != "paude/"+testSession+"/tags/v1" || res.Updates[0].New != s.agentGit(t, "rev-parse", "main") {
			t.Fatalf("updates %+v", res.Updates)
		}
		if git(t, ws, "rev-parse", "v1") == res.Updates[0].New {
			t.Fatal("the host's own tag moved")
		}
	})
	t.Run("a rewritten branch is a forced update", func(t *testing.T) {
		old := s.agentGit(t, "rev-parse", "feature")
		s.agentGit(t, "commit", "-q", "--amend", "-m", "agent: feature, reworded")
		res, err := Fetcher{}.Fetch(context.Background(), openRepo(t, ws), testSession, s.repo())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Updates) != 1 {
			t.Fatalf("updates %+v", res.Updates)
		}
		u := res.Updates[0]
		if !u.Forced || u.Old != old || u.Name != "paude/"+testSession+"/feature" || len(u.Commits) != 1 || u.Commits[0].Subject != "agent: feature, reworded" {
			t.Fatalf("update %+v", u)
		}
		// The old tip stays reachable from the host's reflog.
		if got := git(t, ws, "rev-parse", "paude/"+testSession+"/feature@{1}"); got != old {
			t.Fatalf("reflog has %s, want %s", got, old)
		}
	})
}

// TestFetchCommitLimit: the result lists the newest commits and counts
// the rest.
func TestFetchCommitLimit(t *testing.T) {
	requireGit(t)
	ws, s := seeded(t)
	for i := 0; i < 5; i++ {
		s.agentGit(t, "commit", "-q", "--allow-empty", "-m", "agent "+string(rune('a'+i)))
	}
	res, err := Fetcher{MaxCommits: 2}.Fetch(context.Background(), openRepo(t, ws), testSession, s.repo())
	if err != nil {
		t.Fatal(err)
	}
	var main *RefUpdate
	for i := range res.Updates {
		if res.Updates[i].Name == "paude/"+testSession+"/main" {
			main = &res.Updates[i]
		}
	}
	if main == nil || len(main.Commits) != 2 || main.MoreCommits != 3 || main.Commits[0].Subject != "agent e" {
		t.Fatalf("main update %+v", main)
	}
}

func TestFetchSubmodules(t *testing.T) {
	requireGit(t)
	lib := newHostRepo(t)
	ws := filepath.Join(t.TempDir(), "super")
	git(t, filepath.Dir(ws), "init", "-q", ws)
	git(t, ws, "-c", "protocol.file.allow=always", "submodule", "add", "-q", lib, "lib")
	git(t, ws, "commit", "-qm", "add lib")
	s := newSession(t, ws)
	if err := Seed(context.Background(), openRepo(t, ws), s.repo()); err != nil {
		t.Fatal(err)
	}
	// The agent commits in the submodule, then records it in the superproject.
	sub := filepath.Join(s.ws, "lib")
	git(t, sub, "commit", "-q", "--allow-empty", "-m", "agent: lib")
	s.agentGit(t, "commit", "-qam", "agent: bump lib")
	res, err := Fetcher{}.Fetch(context.Background(), openRepo(t, ws), testSession, s.repo())
	if err != nil {
		t.Fatal(err)
	}
	hostLib := filepath.Join(ws, "lib")
	if got, want := git(t, hostLib, "rev-parse", "paude/"+testSession+"/main"), git(t, sub, "rev-parse", "HEAD"); got != want {
		t.Fatalf("submodule ref %s, want %s", got, want)
	}
	// The superproject's gitlink names a commit the host now has.
	gitlink := git(t, ws, "rev-parse", "paude/"+testSession+"/main:lib")
	if got := git(t, hostLib, "cat-file", "-t", gitlink); got != "commit" {
		t.Fatalf("gitlink %s is %q in the host's submodule", gitlink, got)
	}
	var repos []string
	for _, u := range res.Updates {
		if len(u.Commits) > 0 {
			repos = append(repos, u.Repo+":"+u.Commits[0].Subject)
		}
	}
	if want := []string{":agent: bump lib", "lib:agent: lib"}; !reflect.DeepEqual(repos, want) {
		t.Fatalf("updates with commits %v, want %v", repos, want)
	}
}

// withoutPaudeRefs drops paude's refs from for-each-ref output.
func withoutPaudeRefs(refs string) string {
	var keep []string
	for _, l := range strings.Split(refs, "\n") {
		if !strings.Contains(l, "\trefs/remotes/paude/") && !strings.Contains(l, "\trefs/paude/") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestFetchIntoLinkedWorktree: a workspace that is a linked worktree
// shares its main repository's refs and objects; the session's commits
// land there, once, for every worktree.
func TestFetchIntoLinkedWorktree(t *testing.T) {
	requireGit(t)
	main := newHostRepo(t)
	wt := filepath.Join(t.TempDir(), "wt")
	git(t, main, "worktree", "add", "-q", wt, "topic")
	s := newSession(t, wt)
	if err := Seed(context.Background(), openRepo(t, wt), s.repo()); err != nil {
		t.Fatal(err)
	}
	s.agentGit(t, "commit", "-q", "--allow-empty", "-m", "agent on topic")
	wtGitDir := git(t, wt, "rev-parse", "--absolute-git-dir")
	before := treeHashes(t, wtGitDir, nil)
	if _, err := (Fetcher{}).Fetch(context.Background(), openRepo(t, wt), testSession, s.repo()); err != nil {
		t.Fatal(err)
	}
	if got := git(t, main, "log", "-1", "--format=%s", "paude/"+testSession+"/topic"); got != "agent on topic" {
		t.Fatalf("main repository has %q", got)
	}
	// The worktree's own git dir (HEAD, index) is untouched: no FETCH_HEAD.
	if a, c, r := diffHashes(before, treeHashes(t, wtGitDir, nil)); a != nil || c != nil || r != nil {
		t.Fatalf("worktree git dir changed: %v %v %v", a, c, r)
	}
}
