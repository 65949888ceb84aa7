package podman

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/gitboundary"
	"github.com/paude-dev/paude/pkg/hostrun"
	"github.com/paude-dev/paude/pkg/remote"
)

// What a session did that the user should know before working on: the
// agent's commits, fetched into the host repository, and the files that
// make this machine run code that changed in the workspace. Both are
// reported when the user detaches (and when attach ends because the agent
// exited) and when the session stops; stopping removes the session's
// repository only once its commits are fetched.

// snapshotFile keeps the host-run snapshot of a session: the one taken
// before it started, then the one of its last report.
const snapshotFile = "hostrun.json"

// saveSnapshot keeps snap for the next report on the session.
func (b *Backend) saveSnapshot(id string, snap *hostrun.Snapshot) error {
	if snap == nil {
		return nil
	}
	data, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("failed to record the workspace's host-run files: %w", err)
	}
	return writeSessionFile(filepath.Join(b.sessionDir(id), snapshotFile), string(data), 0o600)
}

// loadSnapshot reads the snapshot of the session's last report, nil when
// there is none (a session started by an older paude).
func (b *Backend) loadSnapshot(id string) (*hostrun.Snapshot, error) {
	data, err := os.ReadFile(filepath.Join(b.sessionDir(id), snapshotFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the session's snapshot: %w", err)
	}
	var s hostrun.Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("failed to read the session's snapshot: %w", err)
	}
	return &s, nil
}

// review fetches the session's commits and reports the host-run files
// that changed since the last report, on out. It returns the fetch's
// error (the report's are printed): a session whose commits could not be
// fetched keeps its repository when it stops.
func (b *Backend) review(ctx context.Context, id string, c *containerInfo, out io.Writer) error {
	ws := c.Config.Labels[backend.KeyWorkspace]
	fetchErr := b.fetch(ctx, id, c, out)
	if fetchErr != nil {
		fmt.Fprintf(out, "Could not fetch the commits of session %s: %v\n", id, fetchErr)
	}
	if err := b.reportHostRun(ctx, id, ws, out); err != nil {
		fmt.Fprintf(out, "Could not check the files of %s that make this machine run code: %v\n", ws, err)
	}
	return fetchErr
}

// fetch brings the session's branches and tags into the host repository
// as refs/remotes/paude/<id>/* and refs/paude/<id>/tags/*, and says what
// arrived. A session without a repository of its own has nothing to
// fetch, and neither has a workspace that is no longer a repository.
func (b *Backend) fetch(ctx context.Context, id string, c *containerInfo, out io.Writer) error {
	gitDir := c.Config.Labels[labelGitDir]
	ws := c.Config.Labels[backend.KeyWorkspace]
	if gitDir == "" || ws == "" {
		return nil
	}
	repo, err := gitboundary.OpenRepo(ctx, ws)
	if errors.Is(err, gitboundary.ErrNoRepository) {
		fmt.Fprintf(out, "Not fetching the commits of session %s: %s is no longer a git repository\n", id, ws)
		return nil
	}
	if err != nil {
		return err
	}
	res, err := gitboundary.Fetcher{Bridge: b.opts.GitBridge}.Fetch(ctx, repo, id, gitboundary.SessionRepo{
		Exec: b.sessionExec(c), Workspace: ws, GitDir: gitDir,
	})
	res.Report(out, id, ws, err)
	return err
}

// sessionExec runs the git boundary's commands in the session: in its
// agent container while it runs, else in a one-shot container of its
// image with its repository volume.
func (b *Backend) sessionExec(c *containerInfo) remote.Executor {
	name := containerName(c.Config.Labels[backend.LabelSessionID])
	if c.State.Running {
		return execInContainer{b: b, name: name}
	}
	ws, gitDir := c.Config.Labels[backend.KeyWorkspace], c.Config.Labels[labelGitDir]
	return oneShot{b: b, spec: oneShotSpec{
		Image: c.ImageName, User: c.Config.User, KeepID: b.hostInfo().Rootless, PullPolicy: "never", Workdir: ws,
		Mounts: []mount{
			{Source: ws, Target: ws, ReadOnly: true},
			{Source: gitVolume(c.Config.Labels[backend.LabelSessionID]), Target: gitDir, Volume: true},
		},
	}}
}

// reportHostRun compares the workspace's host-run files with the
// session's last report, prints what changed and makes now the next
// report's starting point.
func (b *Backend) reportHostRun(ctx context.Context, id, ws string, out io.Writer) error {
	before, err := b.loadSnapshot(id)
	if err != nil || before == nil || ws == "" {
		return err
	}
	after, err := hostrun.Take(ctx, ws)
	if err != nil {
		return err
	}
	rep, err := hostrun.Compare(before, after)
	if err != nil {
		return err
	}
	if _, err := rep.WriteTo(out); err != nil {
		return err
	}
	return b.saveSnapshot(id, after)
}

var _ backend.CommitFetcher = (*Backend)(nil)

// FetchCommits implements backend.CommitFetcher (`paude sync` on Podman,
// where there are no files to sync): what a detach does, the agent's
// commits fetched and the host-run files reported, on out.
func (b *Backend) FetchCommits(ctx context.Context, id string, out io.Writer) error {
	c, err := b.session(ctx, id)
	if err != nil {
		return err
	}
	return b.review(ctx, id, c, out)
}
