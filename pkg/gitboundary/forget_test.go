package gitboundary

import (
	"context"
	"testing"
)

func TestForgetSession(t *testing.T) {
	requireGit(t)
	ws, s := seeded(t)
	s.agentGit(t, "commit", "-q", "--allow-empty", "-m", "agent")
	s.agentGit(t, "tag", "agent-tag")
	host := openRepo(t, ws)
	hostRefs := git(t, ws, "for-each-ref")
	if _, err := (Fetcher{}).Fetch(context.Background(), host, testSession, s.repo()); err != nil {
		t.Fatal(err)
	}
	// Another session's refs stay.
	git(t, ws, "update-ref", "refs/remotes/paude/2-other/main", "HEAD")
	git(t, ws, "pack-refs", "--all")
	n, err := ForgetSession(context.Background(), host, testSession)
	if err != nil || n != 3 { // main, topic and agent-tag (v1 is the host's, unchanged)
		t.Fatalf("forgot %d refs: %v", n, err)
	}
	if got := withoutPaudeRefs(git(t, ws, "for-each-ref")); got != hostRefs {
		t.Fatalf("host refs %q, want %q", got, hostRefs)
	}
	if got := git(t, ws, "for-each-ref", "--format=%(refname)", "refs/remotes/paude", "refs/paude"); got != "refs/remotes/paude/2-other/main" {
		t.Fatalf("paude refs left: %q", got)
	}
	if n, err := ForgetSession(context.Background(), host, testSession); err != nil || n != 0 {
		t.Fatalf("second forget: %d %v", n, err)
	}
	if _, err := ForgetSession(context.Background(), host, "../x"); err == nil {
		t.Fatal("a bad session id was accepted")
	}
}

func TestCheckGitVersion(t *testing.T) {
	for out, ok := range map[string]bool{
		"git version 2.39.5\n":         true,
		"git version 2.31.0":           true,
		"git version 3.0.0":            true,
		"git version 2.30.9":           false,
		"git version 1.9.5":            false,
		"git version 2.45.1.windows.1": true,
		// macOS's own git, /usr/bin/git from the command line tools.
		"git version 2.39.5 (Apple Git-154)\n": true,
		"something else":                       false,
	} {
		if err := checkGitVersion(out); (err == nil) != ok {
			t.Errorf("%q: %v", out, err)
		}
	}
}
