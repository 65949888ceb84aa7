//go:build integration

package kube_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostilePlant is what a prompt-injected agent plants in its copy of the
// workspace, as the pod's arbitrary UID, for the host's sync to carry
// out: a shell script run in the pod's workspace, with OUTSIDE the
// host's directory outside the workspace that the attacks aim at. Each
// plant has a control beside it that must arrive.
const hostilePlant = `
set -e
P=$1
mkdir -p "$OUTSIDE"                         # the pod's own directory of that name
ln -s "$OUTSIDE" $P-escdir                  # a directory link out of the workspace
echo pwned > $P-escdir/$P-planted           # ... and a file "inside" it
ln -s /etc/passwd $P-abs-link                # an absolute link out
ln -s ../../../../../../tmp $P-rel-link      # a relative link out
mkfifo $P-fifo                               # a FIFO
echo s > $P-suid && chmod 4755 $P-suid       # a setuid file
echo g > $P-sgid-dir-file && mkdir $P-sgid && chmod 2775 $P-sgid
mkdir -p $P-nested/.git/hooks                # a nested repository with a hook
printf '[core]\n\tfsmonitor = touch %s/%s-fsmonitor\n' "$OUTSIDE" $P > $P-nested/.git/config
printf '#!/bin/sh\ntouch %s/%s-hook\n' "$OUTSIDE" $P > $P-nested/.git/hooks/post-checkout
chmod +x $P-nested/.git/hooks/post-checkout
git config --replace-all core.fsmonitor "touch $OUTSIDE/$P-repo-fsmonitor"   # the pod repository's .git/config
printf '#!/bin/sh\ntouch %s/%s-repo-hook\n' "$OUTSIDE" $P > .git/hooks/pre-commit
chmod +x .git/hooks/pre-commit
# a commondir redirect to a repository whose config names a program
mkdir -p /tmp/$P-common && cp -a .git/. /tmp/$P-common/
printf '[core]\n\tfsmonitor = touch %s/%s-commondir\n' "$OUTSIDE" $P >> /tmp/$P-common/config
echo /tmp/$P-common > .git/commondir
# the controls
echo ok > $P-ok.txt
ln -s $P-ok.txt $P-inside-link
mkdir -p $P-dir && echo deep > $P-dir/deep.txt && chmod 0755 $P-ok.txt
`

// TestOpenShiftSyncHostileAgent: the agent in a cluster session (the
// real helper, the pod's arbitrary UID) plants links out of the
// workspace, a file behind one, special files, set-ID bits, a nested
// repository and writes to its own .git. Neither a reconcile (`sync
// --once`, the initial-sync path) nor the watch of an attached session
// carries any of it to the host: nothing appears outside the workspace,
// no link leaves it, the host's .git is byte for byte the same, and
// `sync --status` reports what it refused. The controls planted beside
// them arrive.
func TestOpenShiftSyncHostileAgent(t *testing.T) {
	t.Parallel()
	u := newSyncUser(t, "hostile")
	u.write("README.md", "hello\n")
	u.git("init", "-q", "-b", "main")
	u.git("add", ".")
	u.git("commit", "-qm", "start")
	gitBefore := gitFiles(t, filepath.Join(u.ws, ".git"))
	outside := filepath.Join(t.TempDir(), "outside")
	id := u.start()

	plant := func(prefix string) {
		u.inPod(id, "OUTSIDE="+outside+" bash -c "+shellQuote(hostilePlant)+" plant "+prefix)
	}
	check := func(prefix string) {
		t.Helper()
		// Controls: a file (its executable bit too), a link inside the
		// workspace, a directory.
		if s, _ := u.local(prefix + "-ok.txt"); s != "ok\n" {
			t.Errorf("control %s-ok.txt on the host: %q", prefix, s)
		}
		if fi, err := os.Stat(filepath.Join(u.ws, prefix+"-ok.txt")); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("control %s-ok.txt lost its executable bit: %v %v", prefix, fi, err)
		}
		if target, err := os.Readlink(filepath.Join(u.ws, prefix+"-inside-link")); err != nil || target != prefix+"-ok.txt" {
			t.Errorf("control %s-inside-link: %q %v", prefix, target, err)
		}
		if s, _ := u.local(prefix + "-dir/deep.txt"); s != "deep\n" {
			t.Errorf("control %s-dir/deep.txt: %q", prefix, s)
		}
		// Attacks: none of them reaches the host.
		for _, name := range []string{"-escdir", "-abs-link", "-rel-link", "-fifo", "-suid", "-nested/.git"} {
			if _, err := os.Lstat(filepath.Join(u.ws, prefix+name)); err == nil {
				t.Errorf("%s%s reached the host workspace", prefix, name)
			}
		}
		if fi, err := os.Stat(filepath.Join(u.ws, prefix+"-sgid")); err == nil && fi.Mode()&(os.ModeSetgid|os.ModeSetuid|os.ModeSticky) != 0 {
			t.Errorf("%s-sgid arrived with mode %v", prefix, fi.Mode())
		}
		if entries, err := os.ReadDir(outside); err == nil || !os.IsNotExist(err) {
			t.Errorf("something was written outside the workspace: %v %v", entries, err)
		}
		assertNoLinkLeaves(t, u.ws)
		assertOnlyFetched(t, gitBefore, gitFiles(t, filepath.Join(u.ws, ".git")), id)
	}

	// The reconcile path: what the pod has when sync looks.
	plant("once")
	out, errOut := u.mustPaude("sync", id, "--once")
	t.Logf("sync --once:\n%s%s", out, errOut)
	check("once")

	// The watch path: planted while a terminal is attached and sync runs.
	term := u.terminal()
	term.run(u.attachArgv(id)...)
	term.waitFor("FAKE AGENT READY uid=" + arbitraryUID + " gid=0")
	plant("watch")
	eventually(t, "the watch-path controls to arrive", func() bool {
		s, _ := u.local("watch-dir/deep.txt")
		return s == "deep\n"
	})
	status, _ := u.mustPaude("sync", id, "--status")
	check("watch")
	term.send("C-b", "d")
	if code := term.waitExit(); code != 0 {
		t.Fatalf("detach: exit %d", code)
	}
	// The refusals are reported, by rule, with the pod's names quoted.
	// (.git is excluded in both directions, so the real helper never
	// offers the nested repository or the pod's .git: nothing to refuse.
	// A helper that offers them anyway is refused by the git-dir rule,
	// which the hostile-pod corpus of package sync tries.)
	for _, want := range []string{"Refused:", "(symlink-escape)", "(kind)", "(special-bits)", `"watch-abs-link"`, `"once-fifo"`} {
		if !strings.Contains(status, want) {
			t.Errorf("sync --status does not report %s:\n%s", want, status)
		}
	}
	// The user's next git command runs nothing the agent wrote: the
	// outside directory stays empty after git status in the workspace.
	u.git("status", "--short")
	if _, err := os.Stat(outside); !os.IsNotExist(err) {
		t.Errorf("git status on the host ran something the agent planted: %v", err)
	}
	u.mustPaude("stop", id)
}

// assertNoLinkLeaves fails for any symlink in dir whose target resolves
// outside it.
func assertNoLinkLeaves(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink == 0 {
			return err
		}
		target, _ := os.Readlink(p)
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		if rel, err := filepath.Rel(dir, target); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Errorf("the link %s leaves the workspace (to %s)", p, target)
		}
		return nil
	})
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
