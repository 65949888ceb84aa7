package gitboundary

import (
	"context"
	"fmt"
	"strings"
)

// ForgetSession deletes a session's refs from the host repository
// (refs/remotes/paude/<session>/* and refs/paude/<session>/*), with their
// reflogs, and returns how many there were. It is for cleaning up once
// the user has merged what they want: commits that only those refs
// reached become unreachable, and git gc prunes them in its own time.
func ForgetSession(ctx context.Context, host *Repo, session string) (int, error) {
	if !sessionIDPattern.MatchString(session) {
		return 0, fmt.Errorf("invalid session id %q: see 'paude sessions' for valid ids", Display(session))
	}
	out, err := RunHostGit(ctx, host.Workspace, "for-each-ref", "--format=%(refname)", branchPrefix+session+"/", tagPrefix+session+"/")
	if err != nil {
		return 0, fmt.Errorf("failed to list the refs of session %s: %w", session, err)
	}
	var del strings.Builder
	n := 0
	for r := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if r != "" {
			fmt.Fprintf(&del, "delete %s\n", r)
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	if _, err := (gitRun{Dir: host.Workspace, Args: []string{"update-ref", "--stdin"}, Stdin: strings.NewReader(del.String())}).run(ctx); err != nil {
		return 0, fmt.Errorf("failed to delete the refs of session %s: %w", session, err)
	}
	return n, nil
}
