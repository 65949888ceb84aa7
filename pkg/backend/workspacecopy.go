package backend

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/paude-dev/paude/pkg/progress"
	"github.com/paude-dev/paude/pkg/remote"
	"github.com/paude-dev/paude/pkg/sync"
	"github.com/paude-dev/paude/pkg/termfilter"
)

// A cluster session starts on an empty volume: it works on a copy of the
// workspace that package sync keeps in step with the user's, and its git
// repository is its own, seeded and fetched through package gitboundary.
// This file and gitcopy.go hold what that takes, once, for any backend
// whose sessions are like that (WorkspaceCopier); a backend provides
// only the transport (WorkspaceCopy.Exec).

// WorkspaceCopy is how to reach a session's copy of the workspace.
type WorkspaceCopy struct {
	// SessionID is the session's ID; it keys the sync state kept on this
	// machine.
	SessionID string
	// Workspace is the user's workspace (absolute), as the session
	// recorded it at its start.
	Workspace string
	// Remote is the copy's directory in the session.
	Remote string
	// Pod names the session's pod (in conflict copies, and for DevSpace).
	Pod string
	// Exec runs commands in the session.
	Exec remote.Executor
	// Helper is paude's path in the session's image (native sync).
	Helper string
	// ReadyFile is created in the session once its first sync is done;
	// the agent's pane waits for it ("" for none).
	ReadyFile string
	// Method is the sync.method the session was started with (recorded
	// then, when the configuration was trusted).
	Method string
	// Excludes are the sync.exclude patterns the session was started
	// with; nil means sync's defaults.
	Excludes []string
	// DevSpace is how the devspace CLI reaches the pod.
	DevSpace sync.DevSpaceTarget
	// CacheDir holds the per-session sync state; "" means sync's default
	// (os.UserCacheDir()/paude/sync).
	CacheDir string
	// Command is paude as the user typed it ("kubectl paude"), for the
	// commands messages suggest.
	Command string
	// NewSyncer makes the sync engine; nil means sync.New (tests record
	// what the life steps ask of it).
	NewSyncer func(method string, o sync.Options) (sync.Syncer, error)
}

// WorkspaceCopier is a backend whose sessions work on a copy of the
// workspace rather than on the workspace itself (a cluster's pods), so
// workspace sync and the git boundary run over its transport.
type WorkspaceCopier interface {
	// WorkspaceCopy returns how to reach the copy of a running session.
	// A session that does not exist is a *NotFoundError; one that exists
	// but is not running is a *NotRunningError.
	WorkspaceCopy(ctx context.Context, id string) (*WorkspaceCopy, error)
}

// NotRunningError is a session that exists but cannot be reached now.
type NotRunningError struct {
	ID string
	// Why says what it is doing instead ("its pod is gone").
	Why string
	// Hint says what to do.
	Hint string
}

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("session %s is not running (%s): %s", e.ID, e.Why, e.Hint)
}

// syncer returns the engine for the copy, as the session was started
// with (sync.method, sync.exclude). Progress of its reconciles is shown
// on out as one step named name; warnings go to out too.
func (w *WorkspaceCopy) syncer(out io.Writer, name string) (sync.Syncer, *SyncProgress, error) {
	p := &SyncProgress{r: progress.For(out), name: name}
	method := w.Method
	if method == "" {
		method = sync.MethodAuto
	}
	newSyncer := w.NewSyncer
	if newSyncer == nil {
		newSyncer = sync.New
	}
	s, err := newSyncer(method, sync.Options{
		LocalRoot: w.Workspace, RemoteRoot: w.Remote, Excludes: w.Excludes,
		SessionID: w.SessionID, PodName: w.Pod, Progress: p.update, Warn: out,
		Exec: w.Exec, HelperPath: w.Helper, CacheDir: w.CacheDir, DevSpace: w.DevSpace,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to set up workspace sync for session %s: %w", w.SessionID, err)
	}
	return s, p, nil
}

// SyncProgress shows a sync's reconcile as one progress step: bytes on
// the bar, the phase and files in its status.
type SyncProgress struct {
	r     *progress.Reporter
	name  string
	step  *progress.Step
	phase string
	start time.Time
}

// update is sync.Options.Progress.
func (p *SyncProgress) update(sp sync.Progress) {
	if p.step == nil {
		p.step = p.r.Start(p.name, progress.Bytes, sp.TotalBytes)
		p.start = time.Now()
	}
	if sp.Phase != p.phase {
		p.phase = sp.Phase
		p.step.SetTotal(sp.TotalBytes)
	}
	p.step.SetCurrent(sp.Bytes)
	switch {
	case sp.Phase == "scan":
		p.step.Status("comparing both sides")
	case sp.TotalFiles > 0:
		p.step.Status(fmt.Sprintf("%s: %d/%d files", phaseName(sp.Phase), sp.Files, sp.TotalFiles))
	default:
		p.step.Status(phaseName(sp.Phase))
	}
}

func phaseName(phase string) string {
	switch phase {
	case "push":
		return "sending"
	case "pull":
		return "receiving"
	case "verify":
		return "checking what changed meanwhile"
	}
	return phase
}

// Done ends the step, failed when err is not nil.
func (p *SyncProgress) Done(err error) {
	if p.step != nil {
		p.step.Done(err)
		p.step = nil
	}
}

// Report prints what a sync's status holds that the user must know:
// conflicts, refused records from the session and warnings.
func Report(out io.Writer, st sync.Status) {
	for _, c := range st.Conflicts {
		if c.SavedAs != "" {
			fmt.Fprintf(out, "Conflict: %s changed on both sides; yours is kept, the session's is saved as %s\n", quotePath(c.Path), quotePath(c.SavedAs))
		} else {
			fmt.Fprintf(out, "Conflict: %s changed here and was deleted in the session; yours is kept\n", quotePath(c.Path))
		}
	}
	for _, r := range st.Refused {
		fmt.Fprintf(out, "Sync %s\n", r.String())
	}
	for _, w := range st.Warnings {
		// Warnings can quote what the session sent: printable only.
		fmt.Fprintf(out, "Warning: sync: %s\n", termfilter.Sanitize(w))
	}
}
