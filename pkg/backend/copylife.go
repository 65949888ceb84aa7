package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/paude-dev/paude/pkg/gitboundary"
	"github.com/paude-dev/paude/pkg/remote"
	"github.com/paude-dev/paude/pkg/sync"
)

// The life of a session's copy of the workspace, as the backend and the
// `sync` command drive it:
//
//   - First: before the agent starts on a new session, the host-run
//     snapshot, the initial sync (local wins), the session's own git
//     repository, then the ready file the agent's pane waits for.
//   - Start, then Finish: around an attach, a reconcile, sync in the
//     background, then a final pull, the agent's commits fetched and the
//     host-run files reported.
//   - Once: one reconcile and the same fetch and report (`sync --once`,
//     stop).

// finalTimeout bounds the final pull and fetch after a signal ended the
// command: the user closed the terminal or asked to stop, so they happen,
// but not for ever.
const finalTimeout = time.Minute

// First copies the workspace into a new session and gives it its own git
// repository (repo, from HostRepo; nil when the workspace is none), then
// creates the ReadyFile the agent's pane waits for. Its errors fail the
// start.
func (w *WorkspaceCopy) First(ctx context.Context, repo *gitboundary.Repo, out io.Writer) error {
	if err := w.snapshot(ctx); err != nil {
		return err
	}
	s, p, err := w.syncer(out, "Copying the workspace into session "+w.SessionID)
	if err != nil {
		return err
	}
	err = s.Once(ctx)
	p.Done(err)
	if err != nil {
		return fmt.Errorf("failed to copy the workspace into session %s: %w", w.SessionID, err)
	}
	Report(out, s.Status())
	if err := w.seed(ctx, repo); err != nil {
		return err
	}
	return w.markReady(ctx)
}

// markReady creates the ReadyFile in the session.
func (w *WorkspaceCopy) markReady(ctx context.Context) error {
	file := w.ReadyFile
	if file == "" {
		return nil
	}
	err := w.Exec.Exec(ctx, remote.Cmd{Argv: []string{"/bin/sh", "-c", `mkdir -p -- "$1" && : >"$2"`, "paude-ready", path.Dir(file), file}})
	if err != nil {
		return fmt.Errorf("failed to tell session %s that its workspace is there: %w", w.SessionID, err)
	}
	return nil
}

// Start reconciles the two sides (three ways, against the last synced
// state, when this machine has one) and keeps them in step in the
// background until Finish. A session whose first sync did not complete
// (its ReadyFile is missing: paude was killed during the start) gets its
// git repository and its ReadyFile now.
func (w *WorkspaceCopy) Start(ctx context.Context, out io.Writer) (sync.Syncer, error) {
	s, p, err := w.syncer(out, "Syncing the workspace with session "+w.SessionID)
	if err != nil {
		return nil, err
	}
	// The engine outlives ctx: when a signal ends the attach or the
	// foreground sync, Finish still makes its final pull. Only during the
	// first reconcile does ctx stop it.
	engineCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	unwatch := context.AfterFunc(ctx, cancel)
	err = s.Start(engineCtx)
	unwatch()
	p.Done(err)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("failed to sync the workspace with session %s: %w", w.SessionID, err)
	}
	running := &runningSync{Syncer: s, cancel: cancel}
	if err := w.ensureReady(ctx, out); err != nil {
		_ = running.Stop(ctx)
		return nil, err
	}
	return running, nil
}

// runningSync is an engine started by Start: stopping it also releases
// its context.
type runningSync struct {
	sync.Syncer
	cancel context.CancelFunc
}

// Stop implements sync.Syncer.
func (r *runningSync) Stop(ctx context.Context) error {
	defer r.cancel()
	return r.Syncer.Stop(ctx)
}

// ensureReady seeds the session's repository and creates the ReadyFile,
// unless the ReadyFile is there already.
func (w *WorkspaceCopy) ensureReady(ctx context.Context, out io.Writer) error {
	if w.ReadyFile == "" {
		return nil
	}
	err := w.Exec.Exec(ctx, remote.Cmd{Argv: []string{"/bin/sh", "-c", `test -e "$1"`, "paude-ready", w.ReadyFile}})
	var exit *remote.ExitError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &exit):
		return fmt.Errorf("failed to look at session %s: %w", w.SessionID, err)
	}
	repo, err := HostRepo(ctx, w.Workspace)
	if err != nil {
		fmt.Fprintf(out, "Warning: session %s gets no git repository: %v\n", w.SessionID, err)
	} else if err := w.seed(ctx, repo); err != nil {
		return err
	}
	return w.markReady(ctx)
}

// seed gives the session its own repository from repo, unless it has
// one (nil repo: nothing to do).
func (w *WorkspaceCopy) seed(ctx context.Context, repo *gitboundary.Repo) error {
	if repo == nil {
		return nil
	}
	err := gitboundary.Seed(ctx, repo, gitboundary.SessionRepo{Exec: w.Exec, Workspace: w.Remote})
	if err != nil && !errors.Is(err, gitboundary.ErrSessionHasRepository) {
		return fmt.Errorf("failed to give session %s its own git repository: %w", w.SessionID, err)
	}
	return nil
}

// Finish ends background sync with a final pull of the session's
// changes, then fetches the agent's commits and reports the host-run
// files that changed. Everything is tried; the first error is returned.
func (w *WorkspaceCopy) Finish(ctx context.Context, s sync.Syncer, out io.Writer) error {
	ctx, cancel := finalContext(ctx)
	defer cancel()
	err := s.Stop(ctx)
	if err != nil {
		err = fmt.Errorf("the final sync with session %s failed: %w: your changes on both sides are kept; `%s sync %s --once` reconciles them", w.SessionID, err, w.command(), w.SessionID)
	}
	Report(out, s.Status())
	return errors.Join(err, w.review(ctx, out))
}

// Once reconciles the two sides once, then fetches the agent's commits
// and reports the host-run files, as Finish does. When another paude
// process on this machine keeps the session in step (an attached
// terminal, `sync`), that engine does the reconcile: two engines must not
// share the session's sync state.
func (w *WorkspaceCopy) Once(ctx context.Context, out io.Writer) error {
	if w.SyncRunsElsewhere() {
		fmt.Fprintf(out, "Asking the sync running for session %s to reconcile\n", w.SessionID)
		if err := sync.Control(ctx, w.CacheDir, w.SessionID, "once"); err != nil {
			return fmt.Errorf("failed to sync the workspace with session %s: %w", w.SessionID, err)
		}
		return w.review(ctx, out)
	}
	s, p, err := w.syncer(out, "Syncing the workspace with session "+w.SessionID)
	if err != nil {
		return err
	}
	err = s.Once(ctx)
	p.Done(err)
	Report(out, s.Status())
	if err != nil {
		return fmt.Errorf("failed to sync the workspace with session %s: %w", w.SessionID, err)
	}
	return w.review(ctx, out)
}

// SyncRunsElsewhere reports whether a native engine in another live
// process keeps this session in step.
func (w *WorkspaceCopy) SyncRunsElsewhere() bool {
	st, err := sync.ReadStatus(w.CacheDir, w.SessionID)
	return err == nil && Running(st)
}

// Running reports whether a status read from the state directory is that
// of an engine at work (its process is alive: ReadStatus checks).
func Running(st sync.Status) bool {
	switch st.State {
	case sync.StateInitialSync, sync.StateWatching, sync.StateReconnecting:
		return true
	}
	return false
}

// finalContext is ctx, or when a signal already cancelled it, a context
// that allows the final steps finalTimeout.
func finalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), finalTimeout)
}

// review fetches the agent's commits and reports the host-run files that
// changed since the last review.
func (w *WorkspaceCopy) review(ctx context.Context, out io.Writer) error {
	fetchErr := w.FetchCommits(ctx, out)
	if err := w.reportHostRun(ctx, out); err != nil {
		fmt.Fprintf(out, "Could not check the files of %s that make this machine run code: %v\n", w.Workspace, err)
	}
	return fetchErr
}

// FetchCommits brings the agent's branches and tags into the host
// repository (refs/remotes/paude/<id>/*, refs/paude/<id>/tags/*) and
// prints what arrived. A workspace that is no git repository has nothing
// to fetch; neither has a session without a repository.
func (w *WorkspaceCopy) FetchCommits(ctx context.Context, out io.Writer) error {
	if _, err := os.Stat(w.Workspace); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "Not fetching the commits of session %s: %s is gone\n", w.SessionID, w.Workspace)
		return nil
	}
	repo, err := gitboundary.OpenRepo(ctx, w.Workspace)
	if errors.Is(err, gitboundary.ErrNoRepository) {
		return nil
	}
	if err != nil {
		return err
	}
	res, err := gitboundary.Fetcher{}.Fetch(ctx, repo, w.SessionID, gitboundary.SessionRepo{Exec: w.Exec, Workspace: w.Remote})
	res.Report(out, w.SessionID, w.Workspace, err)
	if len(res.Updates) > 0 || len(res.Skipped) > 0 || err == nil {
		w.recordFetch(res)
	}
	if err != nil {
		return fmt.Errorf("failed to fetch the commits of session %s: %w", w.SessionID, err)
	}
	return nil
}

// HostRepo is the git repository whose worktree is workspace, nil when it
// is none. A repository with a host git too old to fetch from a session
// later is an error: a start checks this before it creates anything.
func HostRepo(ctx context.Context, workspace string) (*gitboundary.Repo, error) {
	repo, err := gitboundary.OpenRepo(ctx, workspace)
	if errors.Is(err, gitboundary.ErrNoRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := gitboundary.CheckHostGit(ctx); err != nil {
		return nil, err
	}
	return repo, nil
}

// command is paude as the user typed it, for a hint.
func (w *WorkspaceCopy) command() string {
	if w.Command == "" {
		return "paude"
	}
	return w.Command
}
