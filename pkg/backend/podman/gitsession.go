package podman

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/gitboundary"
	"github.com/paude-dev/paude/pkg/hostrun"
)

// The git boundary on Podman. The workspace is shared with the agent live,
// but its git directory is not: a per-session volume, seeded from the
// host repository's objects and refs (gitboundary.Seed), takes its place
// in the container. The agent commits there; paude fetches its commits
// into refs/remotes/paude/<id>/* on detach and stop (review.go). What the
// host's next git command runs or reads without being asked, and that the
// workspace holds (nested repositories, a hooks directory, hook managers'
// configs, included config files), is mounted read-only, as the snapshot
// taken before the start lists it (hostrun.Snapshot.ReadOnly).

// labelGitDir records on the agent container where its repository is in
// the container, so that a later fetch knows it; no label means the
// session has no git boundary (the workspace was no repository).
const labelGitDir = "paude.io/git-dir"

// linkedGitDir is where the session's repository is mounted when the
// workspace's .git is a file (a linked worktree or a submodule checkout):
// the host's .git file names a directory outside the workspace, so a
// read-only .git file naming this one is mounted over it.
const linkedGitDir = "/var/lib/paude-git"

// gitBoundary is how a start gives its session a repository of its own.
type gitBoundary struct {
	// Repo is the host repository whose worktree is the workspace.
	Repo *gitboundary.Repo
	// Volume holds the session's repository.
	Volume string
	// GitDir is the session's git directory in the container.
	GitDir string
	// DotGitFile is the host file mounted read-only over <ws>/.git when
	// the workspace's .git is a file; "" when it is a directory.
	DotGitFile string
}

// mounts are the agent's mounts of the session's repository.
func (g *gitBoundary) mounts(workspace string) []mount {
	ms := []mount{{Source: g.Volume, Target: g.GitDir, Volume: true}}
	if g.DotGitFile != "" {
		ms = append(ms, mount{Source: g.DotGitFile, Target: path.Join(workspace, ".git"), ReadOnly: true})
	}
	return ms
}

// sessionDir keeps a session's files on the host: the host-run snapshot
// and the .git file of a linked worktree.
func (b *Backend) sessionDir(id string) string {
	return filepath.Join(b.opts.StateDir, "sessions", id)
}

// openGitBoundary plans the git boundary of a start in workspace: nil
// when the workspace is not the top level of a repository (the agent has
// no repository, and a .git it makes shows in the report). create writes
// the .git file a linked worktree needs (a start does, a dry run does
// not). The host's git must be new enough to fetch the agent's commits
// back later.
func (b *Backend) openGitBoundary(ctx context.Context, id, workspace string, create bool) (*gitBoundary, error) {
	repo, err := backend.HostRepo(ctx, workspace)
	if repo == nil || err != nil {
		return nil, err
	}
	g := &gitBoundary{Repo: repo, Volume: gitVolume(id), GitDir: path.Join(workspace, ".git")}
	if repo.GitFile {
		g.GitDir = linkedGitDir
		g.DotGitFile = filepath.Join(b.sessionDir(id), "dotgit")
		if create {
			// Mounted into the agent's container, where its user reads it.
			if err := writeSessionFile(g.DotGitFile, "gitdir: "+linkedGitDir+"\n", 0o644); err != nil {
				return nil, err
			}
		}
	}
	return g, nil
}

// readOnlyMounts are the snapshot's read-only paths as bind mounts onto
// themselves, each after its ancestors below the workspace, which are
// bound onto themselves read-write: a mount point cannot be renamed or
// removed, so the agent can neither edit a protected path in place nor
// move the directory holding it aside and put its own in its place (a
// submodule's .git file, which the host's next `git status` follows).
// The list is in mount order, parents first. podman's -v cannot name a
// path with ':' or ',' (its field separators): such a path is refused,
// rather than left writable.
func readOnlyMounts(workspace string, snap *hostrun.Snapshot) ([]mount, error) {
	if snap == nil {
		return nil, nil
	}
	pinned := map[string]bool{}
	var ms []mount
	for _, rel := range snap.ReadOnly {
		p := path.Join(workspace, rel)
		if strings.ContainsAny(p, ":,") {
			return nil, fmt.Errorf("%s must be mounted read-only, but podman cannot mount a path with ':' or ',': rename it, or start from a workspace without it", gitboundary.Display(p))
		}
		var parents []string
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			parents = append(parents, d)
		}
		slices.Reverse(parents)
		for _, d := range parents {
			if !pinned[d] {
				pinned[d] = true
				ms = append(ms, mount{Source: path.Join(workspace, d), Target: path.Join(workspace, d)})
			}
		}
		ms = append(ms, mount{Source: p, Target: p, ReadOnly: true})
	}
	// Parents first, whatever the order of the list: a parent bound
	// after a child would cover it.
	slices.SortStableFunc(ms, func(a, b mount) int {
		return strings.Count(a.Target, "/") - strings.Count(b.Target, "/")
	})
	return ms, nil
}

// writeSessionFile writes one of a session's host files, in a directory
// only this user can enter (a file bind-mounted into a container is read
// there by its own mode, whatever its directory's).
func writeSessionFile(name, content string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w: set XDG_STATE_HOME to a writable directory", filepath.Dir(name), err)
	}
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), mode); err != nil {
		return fmt.Errorf("failed to write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	return nil
}

// seedSpec is what seeding a session's repository needs: a one-shot
// container of the agent's image, as the agent's user, with the
// repository volume where the agent will see it and the workspace
// read-only (the index is built against its files), and no network.
func seedSpec(a agentSpec, g *gitBoundary) oneShotSpec {
	return oneShotSpec{Image: a.Image, User: a.User, KeepID: a.KeepID, PullPolicy: a.PullPolicy, Workdir: a.Workspace,
		Mounts: []mount{{Source: a.Workspace, Target: a.Workspace, ReadOnly: true}, {Source: g.Volume, Target: g.GitDir, Volume: true}}}
}

// seed fills the session's repository from the host's (before the agent
// starts), in a one-shot container.
func (b *Backend) seed(ctx context.Context, a agentSpec, g *gitBoundary) error {
	err := gitboundary.Seed(ctx, g.Repo, gitboundary.SessionRepo{
		Exec: oneShot{b: b, spec: seedSpec(a, g)}, Workspace: a.Workspace, GitDir: g.GitDir,
	})
	if err != nil {
		return fmt.Errorf("failed to give the session its own git repository: %w", err)
	}
	return nil
}

// gitVolumeSpec is the volume of a session's repository.
func gitVolumeSpec(id, workspace string) volumeSpec {
	return volumeSpec{Name: gitVolume(id), Role: backend.RoleGit, Workspace: workspace, SessionID: id}
}
