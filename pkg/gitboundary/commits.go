package gitboundary

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// updates compares the fetched refs before and after the fetch and lists,
// for each that moved, the commits no host ref reached before. Branches
// come first, then tags, each in name order; a commit is listed once,
// under the first ref that brought it. present are the objects the host
// had before the fetch: their history is not new.
func (f Fetcher) updates(ctx context.Context, host *Repo, repo, session string, wanted []sessionRef, before, after map[string]string, present map[string]bool) ([]RefUpdate, error) {
	var ups []RefUpdate
	for _, r := range wanted {
		u := RefUpdate{Repo: repo, Name: r.Short, Ref: r.Local, Old: before[r.Local], New: after[r.Local]}
		if u.New != "" && u.New != u.Old {
			ups = append(ups, u)
		}
	}
	sort.Slice(ups, func(i, j int) bool {
		ti, tj := strings.HasPrefix(ups[i].Ref, tagPrefix), strings.HasPrefix(ups[j].Ref, tagPrefix)
		if ti != tj {
			return tj
		}
		return ups[i].Ref < ups[j].Ref
	})
	// What the host had of this session before is not new, nor what an
	// earlier ref in the list brought.
	var exclude []string
	for name, oid := range before {
		if strings.HasPrefix(name, branchPrefix+session+"/") || strings.HasPrefix(name, tagPrefix+session+"/") {
			exclude = append(exclude, "^"+oid)
		}
	}
	sort.Strings(exclude)
	for i := range ups {
		u := &ups[i]
		if u.Old != "" {
			forced, err := notAncestor(ctx, host, u.Old, u.New)
			if err != nil {
				return nil, err
			}
			u.Forced = forced
		}
		if present[u.New] || !isCommitish(ctx, host, u.New) {
			continue
		}
		commits, total, err := f.newCommits(ctx, host, session, u.New, exclude)
		if err != nil {
			return nil, err
		}
		u.Commits, u.MoreCommits = commits, total-len(commits)
		exclude = append(exclude, "^"+u.New)
	}
	return ups, nil
}

// notAncestor reports whether old is not an ancestor of new (a forced
// update). Objects that are not commits (a tag of a tree) count as not
// forced: there is no history to rewrite.
func notAncestor(ctx context.Context, host *Repo, old, new string) (bool, error) {
	_, err := RunHostGit(ctx, host.Workspace, "merge-base", "--is-ancestor", old, new)
	var ge *GitError
	var ee *exec.ExitError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &ge) && errors.As(ge.Err, &ee) && ee.ExitCode() == 1:
		return true, nil
	case errors.As(err, &ge) && errors.As(ge.Err, &ee):
		return false, nil
	}
	return false, err
}

// newCommits lists the commits reachable from tip that were not on the
// host before the fetch: not reachable from any ref other than this
// session's (--exclude … --all), nor from exclude ("^<id>" each).
func (f Fetcher) newCommits(ctx context.Context, host *Repo, session, tip string, exclude []string) ([]Commit, int, error) {
	rev := append([]string{tip}, exclude...)
	rev = append(rev, "--not", "--exclude="+branchPrefix+session+"/*", "--exclude="+tagPrefix+session+"/*", "--all")
	out, err := RunHostGit(ctx, host.Workspace, append([]string{"rev-list", "--count"}, rev...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("failed to count the new commits: %w", err)
	}
	total, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return nil, 0, fmt.Errorf("failed to count the new commits: git rev-list printed %q", out)
	}
	args := append([]string{"rev-list", "--max-count=" + strconv.Itoa(f.MaxCommits), "--format=%H %s"}, rev...)
	out, err = RunHostGit(ctx, host.Workspace, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("failed to list the new commits: %w", err)
	}
	// Each commit is a "commit <id>" line, then "<id> <subject>".
	var commits []Commit
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		id, subject, _ := strings.Cut(lines[i+1], " ")
		if lines[i] != "commit "+id {
			return nil, 0, fmt.Errorf("failed to list the new commits: unexpected git rev-list output %q", Display(lines[i]))
		}
		commits = append(commits, Commit{ID: id, Subject: Display(subject)})
	}
	return commits, total, nil
}

// isCommitish reports whether oid peels to a commit.
func isCommitish(ctx context.Context, host *Repo, oid string) bool {
	_, err := RunHostGit(ctx, host.Workspace, "rev-parse", "-q", "--verify", oid+"^{commit}")
	return err == nil
}

// WriteTo prints the result for the user, one line per updated ref with
// its new commits below it, then the skipped refs, without colour. Every
// name and subject is already safe to print.
func (r *FetchResult) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	if len(r.Updates) == 0 {
		b.WriteString("no new commits from the session\n")
	}
	for _, u := range r.Updates {
		where := ""
		if u.Repo != "" {
			where = "submodule " + Display(u.Repo) + ": "
		}
		switch {
		case u.Old == "":
			fmt.Fprintf(&b, "%s%s: new at %s", where, u.Name, short(u.New))
		case u.Forced:
			fmt.Fprintf(&b, "%s%s: %s...%s (forced update)", where, u.Name, short(u.Old), short(u.New))
		default:
			fmt.Fprintf(&b, "%s%s: %s..%s", where, u.Name, short(u.Old), short(u.New))
		}
		n := len(u.Commits) + u.MoreCommits
		switch n {
		case 0:
			b.WriteString(", no new commits\n")
		case 1:
			b.WriteString(", 1 new commit\n")
		default:
			fmt.Fprintf(&b, ", %d new commits\n", n)
		}
		for _, c := range u.Commits {
			fmt.Fprintf(&b, "    %s %s\n", short(c.ID), c.Subject)
		}
		if u.MoreCommits > 0 {
			fmt.Fprintf(&b, "    ... and %d more\n", u.MoreCommits)
		}
	}
	for _, s := range r.Skipped {
		where := ""
		if s.Repo != "" {
			where = "submodule " + Display(s.Repo) + ": "
		}
		fmt.Fprintf(&b, "%snot fetched: %s: %s\n", where, s.Ref, s.Reason)
	}
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

// Report tells the user what a fetch of session into workspace brought,
// under one heading that says how to merge it, the result indented below.
// It says nothing when the fetch failed before anything was fetched or
// skipped (fetchErr is then the news).
func (r *FetchResult) Report(w io.Writer, session, workspace string, fetchErr error) {
	if fetchErr != nil && len(r.Updates) == 0 && len(r.Skipped) == 0 {
		return
	}
	var body bytes.Buffer
	_, _ = r.WriteTo(&body)
	fmt.Fprintf(w, "Commits of session %s, fetched into %s (merge with 'git merge paude/%s/<branch>'):\n", session, workspace, session)
	for _, line := range strings.SplitAfter(strings.TrimSuffix(body.String(), "\n"), "\n") {
		fmt.Fprintf(w, "  %s", line)
	}
	fmt.Fprintln(w)
}

// short abbreviates an object id for display.
func short(oid string) string {
	if len(oid) > 7 {
		return oid[:7]
	}
	return oid
}
