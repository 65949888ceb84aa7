package gitboundary

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Limits on what a fetch takes from a session. The session is hostile:
// an advertisement without end or a million refs must fail cleanly.
const (
	// DefaultMaxRefs is how many branches and tags a session may have.
	DefaultMaxRefs = 100000
	// DefaultMaxCommits is how many new commits per ref a result lists.
	DefaultMaxCommits = 20
)

// maxAdvertisement bounds the bytes of a session's ref advertisement (a
// variable so that tests can lower it).
var maxAdvertisement int64 = 64 << 20

// Fetcher brings a session's commits into the host repository.
type Fetcher struct {
	// Bridge is the argv prefix git runs as its ext:: transport, to which
	// Fetch appends a socket path; nil means DefaultBridge().
	Bridge []string
	// MaxRefs is how many branches and tags a session may have; 0
	// means DefaultMaxRefs.
	MaxRefs int
	// MaxCommits is how many new commits each RefUpdate lists; 0 means
	// DefaultMaxCommits.
	MaxCommits int
}

// FetchResult is what a fetch brought.
type FetchResult struct {
	// Updates are the refs that were created or moved, workspace first,
	// then submodules in path order, each in ref name order.
	Updates []RefUpdate
	// Skipped are branches and tags the session has that were not fetched.
	Skipped []SkippedRef
}

// RefUpdate is one host ref a fetch created or moved.
type RefUpdate struct {
	// Repo is the submodule's path, "" for the workspace's repository.
	Repo string
	// Name is how the user names the ref: "paude/<id>/main" (merge it with
	// `git merge paude/<id>/main`) or "paude/<id>/tags/v1".
	Name string
	// Ref is the full ref written ("refs/remotes/paude/<id>/main").
	Ref string
	// Old is the ref's previous object id, "" when the fetch created it.
	Old string
	// New is its object id now.
	New string
	// Forced is set when Old is not an ancestor of New: the agent
	// rewrote the branch (the host's reflog still has Old).
	Forced bool
	// Commits are commits that arrived with this ref, which no host ref
	// reached before, newest first, at most Fetcher.MaxCommits.
	Commits []Commit
	// MoreCommits is how many more arrived than Commits lists.
	MoreCommits int
}

// Commit is one commit that arrived.
type Commit struct {
	// ID is the full object id.
	ID string
	// Subject is the first line of its message, made safe to print
	// (Display).
	Subject string
}

// Fetch runs `git fetch` in host, with the session's `git upload-pack` as
// the remote end (through the bridge and s.Exec), for the session's
// branches and tags, then does the same for each of host's submodules.
// Branches land in refs/remotes/paude/<session>/*, tags in
// refs/paude/<session>/tags/*; no other ref, no config and no FETCH_HEAD
// is written, and fetch checks every object it receives
// (fetch.fsckObjects) and updates the refs atomically. Branch and tag
// names paude does not accept are left out and listed in Skipped.
//
// The result is never nil; on an error it holds what was fetched before
// (the workspace's refs when a submodule failed).
func (f Fetcher) Fetch(ctx context.Context, host *Repo, session string, s SessionRepo) (*FetchResult, error) {
	res := &FetchResult{}
	if !sessionIDPattern.MatchString(session) {
		return res, fmt.Errorf("invalid session id %q: it names refs, so it must be a DNS label; see 'paude sessions' for valid ids", Display(session))
	}
	if err := CheckHostGit(ctx); err != nil {
		return res, err
	}
	if f.Bridge == nil {
		b, err := DefaultBridge()
		if err != nil {
			return res, err
		}
		f.Bridge = b
	}
	if f.MaxRefs <= 0 {
		f.MaxRefs = DefaultMaxRefs
	}
	if f.MaxCommits <= 0 {
		f.MaxCommits = DefaultMaxCommits
	}
	err := f.fetchTree(ctx, host, "", session, s, res)
	return res, err
}

// fetchTree fetches host from s, then its submodules; repo is host's path
// below the workspace.
func (f Fetcher) fetchTree(ctx context.Context, host *Repo, repo, session string, s SessionRepo, res *FetchResult) error {
	if err := f.fetchOne(ctx, host, repo, session, s, res); err != nil {
		if repo != "" {
			return fmt.Errorf("submodule %s: %w", Display(repo), err)
		}
		return err
	}
	for _, sub := range host.Submodules {
		if err := f.fetchTree(ctx, sub.Repo, joinRepo(repo, sub.Path), session, s.submodule(sub), res); err != nil {
			return err
		}
	}
	return nil
}

func joinRepo(parent, p string) string {
	if parent == "" {
		return p
	}
	return parent + "/" + p
}

// fetchOne fetches one repository, without its submodules.
func (f Fetcher) fetchOne(ctx context.Context, host *Repo, repo, session string, s SessionRepo, res *FetchResult) error {
	srv, err := listenUploadPack(ctx, s)
	if err != nil {
		return err
	}
	defer srv.close()
	url := srv.url(f.Bridge)

	before, err := refValues(ctx, host)
	if err != nil {
		return err
	}
	wanted, skipped, err := f.list(ctx, host, srv, url, session)
	for i := range skipped {
		skipped[i].Repo = repo
	}
	res.Skipped = append(res.Skipped, skipped...)
	if err != nil {
		return err
	}
	wanted = withoutSeededTags(wanted, before)
	if len(wanted) == 0 {
		return nil
	}
	present, err := presentObjects(ctx, host, wanted)
	if err != nil {
		return err
	}

	var refspecs strings.Builder
	for _, r := range wanted {
		fmt.Fprintf(&refspecs, "+%s:%s\n", r.Name, r.Local)
	}
	srv.setLimit(0)
	leftovers := tmpPacks(host.CommonDir)
	_, fetchErr := gitRun{
		Dir: host.Workspace,
		Args: []string{
			"-c", "transfer.fsckObjects=true", "-c", "fetch.fsckObjects=true",
			"fetch", "--quiet", "--atomic", "--no-tags", "--no-write-fetch-head", "--no-auto-gc",
			"--no-recurse-submodules", "--stdin", url,
		},
		Env:   transport,
		Stdin: strings.NewReader(refspecs.String()),
	}.run(ctx)
	sessionErr, _ := srv.settle()
	if fetchErr != nil {
		removeNewTmpPacks(host.CommonDir, leftovers)
		return fetchError("fetch the session's commits", fetchErr, sessionErr)
	}

	after, err := refValues(ctx, host)
	if err != nil {
		return err
	}
	updates, err := f.updates(ctx, host, repo, session, wanted, before, after, present)
	res.Updates = append(res.Updates, updates...)
	return err
}

// transport is the environment of the git commands that talk to the
// session: ext:: and no other transport.
var transport = []string{"GIT_ALLOW_PROTOCOL=ext"}

// list asks the session for its branches and tags (git ls-remote) and
// sorts them into those paude fetches and those it refuses.
func (f Fetcher) list(ctx context.Context, host *Repo, srv *uploadPackServer, url, session string) ([]sessionRef, []SkippedRef, error) {
	srv.setLimit(maxAdvertisement)
	out, lsErr := gitRun{
		Dir: host.Workspace, Args: []string{"ls-remote", "--refs", "--heads", "--tags", url},
		Env: transport, MaxStdout: maxAdvertisement,
	}.run(ctx)
	sessionErr, limited := srv.settle()
	switch {
	case limited || errors.Is(lsErr, errTooMuchOutput):
		return nil, nil, fmt.Errorf("failed to list the session's refs: the session sent more than %d MiB of refs: delete branches or tags in the session and sync again", maxAdvertisement>>20)
	case lsErr != nil:
		return nil, nil, fetchError("list the session's refs", lsErr, sessionErr)
	}
	advertised, skipped := parseLsRemote(out)
	if n := len(advertised) + len(skipped); n > f.MaxRefs {
		return nil, nil, fmt.Errorf("failed to list the session's refs: the session has %d branches and tags, more than the %d paude fetches: delete some in the session and sync again", n, f.MaxRefs)
	}
	var wanted []sessionRef
	for _, a := range advertised {
		ref, ok, reason := mapSessionRef(session, a.Name)
		if ok {
			ref.OID = a.OID
			wanted = append(wanted, ref)
		} else if reason != "" {
			skipped = append(skipped, SkippedRef{Ref: Display(a.Name), Reason: reason})
		}
	}
	return wanted, skipped, nil
}

// withoutSeededTags drops the session's tags that are the host's own tag
// of the same name, unchanged, and that paude has not fetched before:
// seeding copied them, and a repository with thousands of tags would
// otherwise get thousands of paude refs that say nothing.
func withoutSeededTags(wanted []sessionRef, before map[string]string) []sessionRef {
	var keep []sessionRef
	for _, r := range wanted {
		if strings.HasPrefix(r.Name, "refs/tags/") && before[r.Name] == r.OID && before[r.Local] == "" {
			continue
		}
		keep = append(keep, r)
	}
	return keep
}

// presentObjects lists which of the advertised objects the host already
// has, in one git cat-file: those bring no new commits, and paude need
// not walk their history.
func presentObjects(ctx context.Context, host *Repo, wanted []sessionRef) (map[string]bool, error) {
	var in strings.Builder
	for _, r := range wanted {
		in.WriteString(r.OID + "\n")
	}
	out, err := gitRun{Dir: host.Workspace, Args: []string{"cat-file", "--batch-check=%(objectname)"}, Stdin: strings.NewReader(in.String())}.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to look up the session's refs in %s: %w", host.Workspace, err)
	}
	present := map[string]bool{}
	for l := range strings.SplitSeq(string(out), "\n") {
		if isObjectID(l) {
			present[l] = true
		}
	}
	return present, nil
}

// fetchError words a failed ls-remote or fetch: git's own message (which
// may quote the session, made safe) and what the session's side said.
func fetchError(what string, gitErr, sessionErr error) error {
	var ge *GitError
	if errors.As(gitErr, &ge) && strings.Contains(ge.Stderr, "fsck error") {
		return fmt.Errorf("failed to %s: %w: the session's repository holds objects that git's checks refuse, so nothing was fetched; find them with git fsck in the session", what, gitErr)
	}
	if sessionErr != nil {
		return fmt.Errorf("failed to %s: %w; %w: check that the session is running and its repository is intact, then sync again", what, gitErr, sessionErr)
	}
	return fmt.Errorf("failed to %s: %w: check that the session is running and its repository is intact, then sync again", what, gitErr)
}

// tmpPacks lists the temporary files in the host's objects/pack.
func tmpPacks(commonDir string) map[string]bool {
	names, _ := filepath.Glob(filepath.Join(commonDir, "objects", "pack", "tmp_*"))
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	return seen
}

// removeNewTmpPacks removes the temporary files a failed fetch left in
// objects/pack: git keeps the pack it received when its checks reject it,
// and a session could fill the disk with such rejected packs, one per
// sync. Files that were there before the fetch are left alone.
func removeNewTmpPacks(commonDir string, before map[string]bool) {
	for n := range tmpPacks(commonDir) {
		if !before[n] {
			_ = os.Remove(n)
		}
	}
}

// refValues maps every ref of host to its object id.
func refValues(ctx context.Context, host *Repo) (map[string]string, error) {
	out, err := RunHostGit(ctx, host.Workspace, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return nil, fmt.Errorf("failed to list the refs of %s: %w", host.Workspace, err)
	}
	refs := map[string]string{}
	for l := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if oid, name, ok := strings.Cut(l, " "); ok {
			refs[name] = oid
		}
	}
	return refs, nil
}
