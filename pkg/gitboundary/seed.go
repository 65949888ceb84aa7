package gitboundary

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/paude-dev/paude/pkg/remote"
)

// ErrSessionHasRepository is returned by Seed when the session already has
// a repository at its git directory: a resumed session keeps the agent's
// repository (and its unfetched commits) rather than replacing it.
var ErrSessionHasRepository = errors.New("the session already has a repository")

// seedExitHasRepository is the seed script's exit code for
// ErrSessionHasRepository ("exit 17" in seedScript).
const seedExitHasRepository = 17

// seedScript turns the bundle on its standard input into a non-bare
// repository in the session. It runs with sh -c, arguments:
//
//	$1 git dir   $2 worktree   $3 HEAD ("ref:<name>" or "oid:<id>")
//	$4 object format   $5 "bundle" when stdin holds one   $6... shallow ids
//
// Only objects and refs arrive from the host: the config is what the
// session's `git init` writes (plus core.worktree when the git dir is not
// <worktree>/.git), and the hooks are the session image's templates. The
// index is built from HEAD and refreshed against the files already in the
// worktree, so `git status` shows exactly how they differ from HEAD:
// nothing right after seeding a clean worktree. The bundle's ref list
// goes through a file, not a pipe, so a failed unbundle stops the script.
const seedScript = `set -eu
g=$1 w=$2 head=$3 format=$4 bundle=$5
shift 5
if git --git-dir="$g" rev-parse --git-dir >/dev/null 2>&1; then
	exit 17
fi
mkdir -p "$w" "$g"
if [ "$format" = sha1 ]; then
	git --git-dir="$g" --work-tree="$w" init -q
else
	git --git-dir="$g" --work-tree="$w" init -q --object-format="$format"
fi
export GIT_DIR="$g" GIT_WORK_TREE="$w"
if [ $# -gt 0 ]; then
	printf '%s\n' "$@" >"$g/shallow"
fi
if [ "$bundle" = bundle ]; then
	git bundle unbundle /dev/stdin >"$g/paude-seed-refs"
	while read -r oid ref; do
		if [ "$ref" != HEAD ]; then
			printf 'create %s %s\n' "$ref" "$oid"
		fi
	done <"$g/paude-seed-refs" | git update-ref --stdin
	rm -f "$g/paude-seed-refs"
fi
case $head in
ref:*) git symbolic-ref HEAD "${head#ref:}" ;;
oid:*) git update-ref --no-deref HEAD "${head#oid:}" ;;
esac
if [ "$g" != "$w/.git" ] && [ ! -e "$w/.git" ]; then
	printf 'gitdir: %s\n' "$g" >"$w/.git"
fi
if git rev-parse -q --verify HEAD >/dev/null; then
	git read-tree HEAD
	git update-index -q --ignore-missing --refresh >/dev/null || :
fi
`

// Seed gives the session its own repository from host's objects and
// refs: branches, tags, remote-tracking branches (but not paude's own
// refs/remotes/paude/*) and HEAD, streamed as a `git bundle` into `sh -c`
// in the session (which needs sh and git ≥ 2.23). Nothing else of the
// host's .git is copied: not its config, hooks, index, reflogs or stash.
// Each of host's submodules is seeded into <git dir>/modules/<name> in the
// session the same way, and gets a .git file in the session's worktree
// when it has none (on a cluster, where sync never carries .git).
//
// Seed returns ErrSessionHasRepository when s already has a repository
// and changes nothing then.
func Seed(ctx context.Context, host *Repo, s SessionRepo) error {
	if err := seedOne(ctx, host, s); err != nil {
		return err
	}
	for _, sub := range host.Submodules {
		if err := Seed(ctx, sub.Repo, s.submodule(sub)); err != nil {
			return fmt.Errorf("submodule %s: %w", Display(sub.Path), err)
		}
	}
	return nil
}

// seedOne seeds one repository, without its submodules.
func seedOne(ctx context.Context, host *Repo, s SessionRepo) error {
	refs, head, err := seedRefs(ctx, host)
	if err != nil {
		return err
	}
	bundle := "none"
	if len(refs) > 0 {
		bundle = "bundle"
	}
	argv := append([]string{"sh", "-c", seedScript, "paude-seed", s.gitDir(), s.Workspace, head, host.ObjectFormat, bundle}, host.Shallow...)
	stderr := &tailBuffer{max: 16 << 10}
	if len(refs) == 0 {
		return seedError(s, s.Exec.Exec(ctx, remote.Cmd{Argv: argv, Stderr: stderr}), stderr)
	}

	// The bundle goes from host git to the session through an OS pipe, so
	// an executor that runs a local process hands it the descriptor.
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("failed to create a pipe: %w", err)
	}
	defer func() { _ = pr.Close() }()
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := gitRun{Dir: host.Workspace, Args: []string{"bundle", "create", "-q", "-", "--stdin"}, Stdin: strings.NewReader(strings.Join(refs, "\n") + "\n")}
	cmd := g.command(bctx)
	bundleErr := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = pw, bundleErr
	if err := cmd.Start(); err != nil {
		_ = pw.Close()
		return fmt.Errorf("failed to run git bundle: %w: check that git is installed", err)
	}
	_ = pw.Close()
	execErr := s.Exec.Exec(ctx, remote.Cmd{Argv: argv, Stdin: pr, Stderr: stderr})
	if execErr != nil {
		// The session stopped reading: the bundle would block on a full pipe.
		cancel()
	}
	_ = pr.Close()
	waitErr := cmd.Wait()
	if execErr == nil && waitErr != nil {
		return fmt.Errorf("failed to bundle %s for the session: %w", host.Workspace, g.error(bundleErr, waitErr))
	}
	return seedError(s, execErr, stderr)
}

// seedError words a failure of the seed script.
func seedError(s SessionRepo, err error, stderr *tailBuffer) error {
	if err == nil {
		return nil
	}
	var ee *remote.ExitError
	if errors.As(err, &ee) && ee.Code == seedExitHasRepository {
		return fmt.Errorf("%s: %w", Display(s.gitDir()), ErrSessionHasRepository)
	}
	msg := displayLines(stderr.String(), 4)
	if msg == "" {
		msg = err.Error()
	}
	return fmt.Errorf("failed to seed the session's repository at %s: %s: check that the session's image has sh and git", Display(s.gitDir()), msg)
}

// seedRefs lists what the bundle carries (as `git bundle create --stdin`
// takes it) and the session's HEAD ("ref:<name>" or "oid:<id>"). An empty
// list means there is nothing to bundle: a repository without commits.
func seedRefs(ctx context.Context, host *Repo) (refs []string, head string, err error) {
	out, err := RunHostGit(ctx, host.Workspace, "for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags", "refs/remotes")
	if err != nil {
		return nil, "", fmt.Errorf("failed to list the refs of %s: %w", host.Workspace, err)
	}
	for r := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if r != "" && !strings.HasPrefix(r, "refs/remotes/paude/") {
			refs = append(refs, r)
		}
	}
	var oid string
	if out, err := RunHostGit(ctx, host.Workspace, "rev-parse", "-q", "--verify", "HEAD"); err == nil {
		oid = strings.TrimSpace(string(out))
		// HEAD goes in too: a detached HEAD is reachable from no ref.
		refs = append(refs, "HEAD")
	}
	if out, err := RunHostGit(ctx, host.Workspace, "symbolic-ref", "-q", "HEAD"); err == nil {
		head = "ref:" + strings.TrimSpace(string(out))
	} else if oid != "" {
		head = "oid:" + oid
	} else {
		return nil, "", fmt.Errorf("failed to read HEAD of %s: %w: check it with git status", host.Workspace, err)
	}
	return refs, head, nil
}
