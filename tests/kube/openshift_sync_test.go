//go:build integration

package kube_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/sync/synctest"
)

// TestOpenShiftSyncLargeWorkspace starts a session on a workspace with a
// git repository, 10,000 small files (about 60 MB) and one 1 GiB file,
// through `kubectl paude --detach`, and finds every file in the pod with
// the same SHA-256, written by the pod's arbitrary UID, and the session's
// own repository at the host's HEAD with the same `git status`.
func TestOpenShiftSyncLargeWorkspace(t *testing.T) {
	t.Parallel()
	u := newSyncUser(t, "big")
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	buf := make([]byte, 12<<10)
	for i := range 10000 {
		n := 1 + rng.IntN(len(buf))
		for j := range n {
			buf[j] = byte(rng.Uint32())
		}
		u.write(fmt.Sprintf("src/d%02d/f%05d.dat", i%100, i), string(buf[:n]))
	}
	u.git("init", "-q", "-b", "main")
	u.git("add", ".")
	u.git("commit", "-qm", "ten thousand files")
	u.write("src/d00/f00000.dat", "changed, not committed\n")
	if err := synctest.BigFile(filepath.Join(u.ws, "big.bin"), 1<<30, 2); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	err := filepath.WalkDir(u.ws, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.Name() == ".git" {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(u.ws, p)
		want[filepath.ToSlash(rel)] = fileSum(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	id := u.start()
	t.Logf("MEASURE start with the first sync of 10,002 files and 1 GiB: %s", time.Since(start).Round(100*time.Millisecond))

	got := map[string]string{}
	sums := u.inPod(id, `find . -path ./.git -prune -o -type f -print0 | xargs -0 sha256sum`)
	sc := bufio.NewScanner(strings.NewReader(sums))
	for sc.Scan() {
		sum, p, ok := strings.Cut(sc.Text(), "  ")
		if ok {
			got[strings.TrimPrefix(p, "./")] = sum
		}
	}
	var diffs []string
	for p, sum := range want {
		if got[p] != sum {
			diffs = append(diffs, fmt.Sprintf("%s: pod %q, host %s", p, got[p], sum))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, p+": only in the pod")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("%d of %d files differ, first: %s", len(diffs), len(want), strings.Join(diffs[:min(5, len(diffs))], "; "))
	}
	if owners := u.inPod(id, `id -u; find . -path ./.git -prune -o ! -uid `+arbitraryUID+` -print | head -3`); owners != arbitraryUID+"\n" {
		t.Errorf("the agent's UID and files not its own:\n%s", owners)
	}
	if head, host := u.inPod(id, "git rev-parse HEAD"), u.git("rev-parse", "HEAD"); strings.TrimSpace(head) != host {
		t.Errorf("the session's HEAD is %q, the host's %s", head, host)
	}
	if st, host := u.inPod(id, "git status --porcelain"), u.git("status", "--porcelain"); strings.TrimSpace(st) != host {
		t.Errorf("git status in the session:\n%s\non the host:\n%s", st, host)
	}
	u.mustPaude("stop", id)
}

// TestOpenShiftSyncWhileAttached drives a session from a real terminal:
// while attached, files created, deleted and renamed on either side
// arrive on the other; the agent's commit comes back on detach as
// refs/remotes/paude/<id>/main with the host's .git otherwise untouched.
// Detached, both sides change, one file on both: the reattach finds the
// same tmux screen, reconciles, keeps both versions of the conflicting
// file, and `sync --status` lists the conflict.
func TestOpenShiftSyncWhileAttached(t *testing.T) {
	t.Parallel()
	u := newSyncUser(t, "proj")
	for _, f := range []string{"del-local", "del-pod", "ren-local", "ren-pod", "a", "b", "both"} {
		u.write(f+".txt", f+" v1\n")
	}
	u.git("init", "-q", "-b", "main")
	u.git("add", ".")
	u.git("commit", "-qm", "start")
	gitBefore := gitFiles(t, filepath.Join(u.ws, ".git"))
	id := u.start()

	term := u.terminal()
	term.run(u.attachArgv(id)...)
	term.waitFor("FAKE AGENT READY uid=" + arbitraryUID + " gid=0")
	marker := randomSuffix()
	term.send("echo state-$((40+2))-"+marker, "Enter")
	term.waitFor("state-42-" + marker)

	// Both ways while attached.
	u.write("from-host.txt", "host\n")
	t.Logf("MEASURE a host file reached the pod after %s", eventually(t, "from-host.txt in the pod", func() bool {
		s, ok := u.podHas(id, "from-host.txt")
		return ok && s == "host\n"
	}))
	u.inPod(id, "echo pod > from-pod.txt")
	t.Logf("MEASURE a pod file reached the host after %s", eventually(t, "from-pod.txt on the host", func() bool {
		s, ok := u.local("from-pod.txt")
		return ok && s == "pod\n"
	}))
	if err := os.Remove(filepath.Join(u.ws, "del-local.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(u.ws, "ren-local.txt"), filepath.Join(u.ws, "renamed-local.txt")); err != nil {
		t.Fatal(err)
	}
	u.inPod(id, "rm del-pod.txt && mv ren-pod.txt renamed-pod.txt")
	eventually(t, "deletes and renames to travel", func() bool {
		_, delLocal := u.podHas(id, "del-local.txt")
		_, renOld := u.podHas(id, "ren-local.txt")
		renNew, renOK := u.podHas(id, "renamed-local.txt")
		_, delPod := u.local("del-pod.txt")
		_, podOld := u.local("ren-pod.txt")
		podNew, podOK := u.local("renamed-pod.txt")
		return !delLocal && !renOld && renOK && renNew == "ren-local v1\n" && !delPod && !podOld && podOK && podNew == "ren-pod v1\n"
	})
	// The agent commits.
	u.inPod(id, "echo feature > feature.txt && git add feature.txt && git commit -qm 'agent: the feature'")
	status, _ := u.mustPaude("sync", id, "--status")
	if !strings.Contains(status, "State:      watching") {
		t.Errorf("sync --status while attached:\n%s", status)
	}

	term.send("C-b", "d")
	if code := term.waitExit(); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	term.waitFor("agent: the feature")
	ref := "refs/remotes/paude/" + id + "/main"
	if subject := u.git("log", "-1", "--format=%s", ref); subject != "agent: the feature" {
		t.Errorf("%s is %q", ref, subject)
	}
	if s, _ := u.local("feature.txt"); s != "feature\n" {
		t.Errorf("feature.txt on the host: %q", s)
	}
	assertOnlyFetched(t, gitBefore, gitFiles(t, filepath.Join(u.ws, ".git")), id)

	// Detached: both sides change, both.txt on both.
	u.write("a.txt", "a from the host\n")
	u.write("both.txt", "both from the host\n")
	u.inPod(id, "echo 'b from the pod' > b.txt && echo 'both from the pod' > both.txt")
	term.run(u.attachArgv(id)...)
	term.waitFor("state-42-" + marker)
	t.Logf("MEASURE reattach reconciled: %s", eventually(t, "the detached edits to cross", func() bool {
		a, _ := u.podHas(id, "a.txt")
		b, _ := u.local("b.txt")
		return a == "a from the host\n" && b == "b from the pod\n"
	}))
	if s, _ := u.local("both.txt"); s != "both from the host\n" {
		t.Errorf("both.txt on the host: %q, want the host's version kept", s)
	}
	copies, _ := filepath.Glob(filepath.Join(u.ws, "both.txt.paude-conflict-*"))
	if len(copies) != 1 {
		t.Fatalf("conflict copies %v, want one", copies)
	}
	if s, _ := os.ReadFile(copies[0]); string(s) != "both from the pod\n" {
		t.Errorf("the conflict copy holds %q, want the pod's version", s)
	}
	status, _ = u.mustPaude("sync", id, "--status")
	if !strings.Contains(status, "Conflicts:  1\n") || !strings.Contains(status, `"both.txt" changed on both sides; yours is kept, the session's is saved as "`+filepath.Base(copies[0])+`"`) {
		t.Errorf("sync --status does not list the conflict:\n%s", status)
	}
	term.send("C-b", "d")
	if code := term.waitExit(); code != 0 {
		t.Fatalf("second detach: exit %d", code)
	}
	u.mustPaude("stop", id)
}
