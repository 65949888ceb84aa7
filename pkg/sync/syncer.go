package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/paude-dev/paude/pkg/remote"
	"github.com/paude-dev/paude/pkg/sync/guard"
)

// Syncer keeps a local workspace and a session's copy of it in step.
type Syncer interface {
	// Engine names the engine ("devspace" or "native").
	Engine() string
	// Available returns nil when the engine can run here, or an
	// *UnavailableError saying why not (the only error a fallback skips).
	Available() error
	// Start brings the two sides in step (the initial sync, reporting
	// progress through Options.Progress), then keeps them in step in the
	// background until Stop or until ctx is cancelled.
	Start(ctx context.Context) error
	// Once brings the two sides in step one time and returns.
	Once(ctx context.Context) error
	// Flush sends the local changes not yet in the session now and waits
	// until the session has them.
	Flush(ctx context.Context) error
	// Stop ends background sync after a final pull of the session's
	// changes; ctx bounds how long that may take.
	Stop(ctx context.Context) error
	// Status describes the sync now.
	Status() Status
}

// Engine names.
const (
	EngineDevSpace = "devspace"
	EngineNative   = "native"
)

// Methods are the values of sync.method.
const (
	MethodAuto     = "auto"
	MethodDevSpace = EngineDevSpace
	MethodNative   = EngineNative
)

// DefaultExcludes are the sync.exclude patterns used when the project sets
// none. .git is not among them because it is never synced at all.
func DefaultExcludes() []string {
	return []string{"node_modules", ".venv", "__pycache__"}
}

// State is where a Syncer is in its life.
type State string

// States.
const (
	StateIdle         State = "idle"
	StateInitialSync  State = "initial-sync"
	StateWatching     State = "watching"
	StateReconnecting State = "reconnecting"
	StateStopped      State = "stopped"
	StateFailed       State = "failed"
)

// Status is a snapshot of a Syncer.
type Status struct {
	Engine string
	State  State
	// LastSync is when the two sides were last known to be in step.
	LastSync time.Time
	// Pending counts local changes not yet acknowledged by the session
	// (-1 when the engine cannot tell).
	Pending int
	// Conflicts are files changed on both sides.
	Conflicts []Conflict
	// Refused are records from the session that were not applied.
	Refused []Refusal
	// Warnings are other things the user should know (e.g. a pod that
	// writes faster than the rate limit, a watcher that fell back to
	// polling).
	Warnings []string
	// Err is the last error, when State is failed or reconnecting.
	Err string
}

// Conflict is a file changed on both sides since the last sync. The local
// version is kept; the session's is saved beside it as SavedAs (empty when
// the session had deleted the file).
type Conflict struct {
	Path    string
	SavedAs string
	Time    time.Time
}

// Refusal is a record from the session that sync did not apply.
type Refusal struct {
	Rule   guard.Rule
	Path   string
	Detail string
	Time   time.Time
}

// String renders a refusal for a terminal: the session's path is quoted,
// so it cannot carry escape sequences through.
func (r Refusal) String() string {
	return fmt.Sprintf("refused %s from the session (%s): %s", guard.Printable(r.Path), r.Rule, r.Detail)
}

// Progress is reported while the initial sync (or a reconcile) runs.
type Progress struct {
	// Phase is "scan", "pull", "push", or "verify" (after a large first
	// push, checking what changed in the session meanwhile).
	Phase      string
	Files      int64
	TotalFiles int64
	Bytes      int64
	TotalBytes int64
}

// UnavailableError says an engine cannot run here at all (its tool is
// not installed). Only this error makes the "auto" method fall through to
// the next engine.
type UnavailableError struct {
	Engine string
	Reason string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s sync is not available: %s", e.Engine, e.Reason)
}

// IsUnavailable reports whether err is (or wraps) an *UnavailableError.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}

// Options configure a Syncer. Fields an engine does not use are ignored.
type Options struct {
	// LocalRoot is the workspace on this machine (absolute).
	LocalRoot string
	// RemoteRoot is the workspace in the session (absolute).
	RemoteRoot string
	// Excludes are gitignore-style patterns never synced (sync.exclude);
	// nil means DefaultExcludes. .git is always excluded.
	Excludes []string
	// SessionID names the session; it keys the sync state kept in
	// CacheDir.
	SessionID string
	// PodName is the session's pod, named in conflict copies.
	PodName string
	// Progress, when set, receives initial-sync progress.
	Progress func(Progress)
	// Warn receives the one-line WARNING when an engine falls back
	// (progress output, stderr); nil discards it.
	Warn io.Writer

	// Exec runs commands in the session (native).
	Exec remote.Executor
	// HelperPath is the paude binary inside the session's image (native).
	HelperPath string
	// CacheDir holds per-session sync state; "" means
	// $XDG_CACHE_HOME/paude/sync or ~/.cache/paude/sync (native).
	CacheDir string
	// CaseInsensitive refuses names from the session that differ only by
	// case or Unicode normalisation; nil means "on macOS" (native).
	CaseInsensitive *bool
	// Limits bound what the session can make sync write; zero fields take
	// guard.DefaultLimits (native).
	Limits guard.Limits

	// DevSpace is how to reach the pod with the devspace CLI.
	DevSpace DevSpaceTarget
}

// DevSpaceTarget is what `devspace sync` needs to find the pod.
type DevSpaceTarget struct {
	// Binary is the devspace executable ("" = "devspace" on PATH).
	Binary      string
	Namespace   string
	Pod         string
	Container   string
	KubeContext string
	Kubeconfig  string
}
