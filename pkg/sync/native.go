package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	stdsync "sync"
	"time"

	"github.com/paude-dev/paude/pkg/sync/agent"
	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/tree"
)

// Native is paude's own sync engine: the paude binary in the session
// (`paude __sync-agent`) on one long-lived exec stream per direction, an
// index of the last synced state under the user's cache directory for
// three-way reconciles, fsnotify on both sides for continuous sync, and
// every record from the session checked by package guard.
type Native struct {
	opts     Options
	x        *tree.Excludes
	stateDir string
	caseFold bool
	throttle *guard.Throttle

	// Set while running; owned by the engine loop.
	ws      *guard.Workspace
	idx     *index
	link    *link
	watcher *tree.Watcher
	// force holds local paths to push whatever the session has (their
	// session version was saved as a conflict copy).
	force     map[string]struct{}
	lastSave  time.Time
	idxDirty  bool
	cmds      chan command
	done      chan struct{}
	cancel    context.CancelFunc
	runErr    error
	startOnce stdsync.Once

	mu     stdsync.Mutex
	status Status
}

type command struct {
	kind  string // "stop" or "once"
	reply chan error
	ctx   context.Context
}

var sessionIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// NewNative checks o and returns a native engine; nothing runs until
// Start or Once.
func NewNative(o Options) (*Native, error) {
	switch {
	case o.Exec == nil:
		return nil, errors.New("native sync needs a way to run commands in the session (Options.Exec)")
	case o.HelperPath == "" || !filepath.IsAbs(o.HelperPath):
		return nil, fmt.Errorf("native sync needs the absolute path of the paude binary in the image, got %q", o.HelperPath)
	case !filepath.IsAbs(o.RemoteRoot):
		return nil, fmt.Errorf("the session's workspace path %q is not absolute", o.RemoteRoot)
	case !sessionIDPattern.MatchString(o.SessionID):
		return nil, fmt.Errorf("session id %q cannot name a sync state directory: use letters, digits, '.', '_' and '-'", o.SessionID)
	}
	root, err := filepath.Abs(o.LocalRoot)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("workspace %s is not a directory: sync needs an existing directory", root)
	}
	o.LocalRoot = root
	if o.Excludes == nil {
		o.Excludes = DefaultExcludes()
	}
	x, err := tree.NewExcludes(o.Excludes)
	if err != nil {
		return nil, err
	}
	stateDir, err := StateDirFor(o.CacheDir, o.SessionID)
	if err != nil {
		return nil, err
	}
	fold := runtime.GOOS == "darwin"
	if o.CaseInsensitive != nil {
		fold = *o.CaseInsensitive
	}
	o.Limits = o.Limits.WithDefaults()
	return &Native{
		opts: o, x: x, caseFold: fold,
		stateDir: stateDir,
		throttle: guard.NewThrottle(o.Limits),
		force:    map[string]struct{}{},
		status:   Status{Engine: EngineNative, State: StateIdle},
	}, nil
}

// Engine implements Syncer.
func (n *Native) Engine() string { return EngineNative }

// Available implements Syncer: the native engine needs nothing on this
// machine.
func (n *Native) Available() error { return nil }

// StateDir is where the engine keeps this session's sync state.
func (n *Native) StateDir() string { return n.stateDir }

func (n *Native) indexPath() string { return filepath.Join(n.stateDir, "index") }

func (n *Native) policy() guard.Policy {
	return guard.Policy{Excludes: n.x, Limits: n.opts.Limits, CaseInsensitive: n.caseFold}
}

func (n *Native) agentConfig() agent.Config {
	return agent.Config{Root: n.opts.RemoteRoot, Excludes: n.x.Patterns(), DeferWatch: true}
}

// open prepares the workspace, the index and a link.
func (n *Native) open(ctx context.Context) error {
	ws, err := guard.Open(n.opts.LocalRoot, n.policy())
	if err != nil {
		return err
	}
	idx, err := loadIndex(n.indexPath(), n.opts.LocalRoot, n.opts.RemoteRoot)
	if err != nil {
		_ = ws.Close()
		return err
	}
	n.ws, n.idx = ws, idx
	return n.dial(ctx)
}

func (n *Native) dial(ctx context.Context) error {
	p := n.ws.Policy()
	l, err := openLink(ctx, n.opts.Exec, n.opts.HelperPath, n.agentConfig(), p, n.report)
	if err != nil {
		return fmt.Errorf("failed to start sync with the session: %w", err)
	}
	if l.polling != "" {
		n.warn("the session cannot watch files (" + guard.Printable(l.polling) + "): changes there are found by periodic rescans")
	}
	n.link = l
	return nil
}

// closeAll releases whatever open created.
func (n *Native) closeAll() {
	if n.watcher != nil {
		n.watcher.Close()
		n.watcher = nil
	}
	if n.link != nil {
		n.link.close()
		n.link = nil
	}
	if n.ws != nil {
		_ = n.ws.Close()
		n.ws = nil
	}
}

// Start implements Syncer.
func (n *Native) Start(ctx context.Context) error {
	started := false
	n.startOnce.Do(func() { started = true })
	if !started {
		return errors.New("sync was already started for this session: use Status, Flush or Stop")
	}
	runCtx, cancel := context.WithCancel(ctx)
	n.cancel = cancel
	n.setState(StateInitialSync, nil)
	if err := n.open(runCtx); err != nil {
		n.fail(err)
		cancel()
		return err
	}
	// Watch before the first scan: a change made during the initial sync
	// is then seen again afterwards.
	n.watcher = tree.Watch(n.opts.LocalRoot, n.ws.Dir(), n.x, tree.WatchOptions{})
	if polling, why := n.watcher.Polling(); polling {
		n.warn(fmt.Sprintf("cannot watch %s (%v): local changes are found by periodic rescans", n.opts.LocalRoot, why))
	}
	if err := n.reconcile(runCtx, true, true); err != nil {
		n.fail(err)
		n.closeAll()
		cancel()
		return fmt.Errorf("initial sync failed: %w", err)
	}
	n.setState(StateWatching, nil)
	n.cmds = make(chan command)
	n.done = make(chan struct{})
	n.serveControl(runCtx)
	go n.run(runCtx)
	return nil
}

// Once implements Syncer: on a running engine it reconciles now; else it
// connects, reconciles and disconnects.
func (n *Native) Once(ctx context.Context) error {
	if n.done != nil {
		return n.command(ctx, "once")
	}
	n.setState(StateInitialSync, nil)
	if err := n.open(ctx); err != nil {
		n.fail(err)
		return err
	}
	defer n.closeAll()
	if err := n.reconcile(ctx, true, false); err != nil {
		n.fail(err)
		return err
	}
	n.setState(StateStopped, nil)
	return nil
}

// Flush implements Syncer.
func (n *Native) Flush(ctx context.Context) error {
	if n.done == nil {
		return errors.New("sync is not running: start it first")
	}
	if err := n.watcher.Sync(ctx); err != nil {
		return fmt.Errorf("failed to flush local changes: %w", err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.status.State != StateWatching {
		return fmt.Errorf("sync is %s: %s", n.status.State, n.status.Err)
	}
	return nil
}

// Stop implements Syncer.
func (n *Native) Stop(ctx context.Context) error {
	if n.done == nil {
		return nil
	}
	select {
	case <-n.done:
		return n.runErr
	default:
	}
	var flushErr error
	if st := n.Status().State; st == StateWatching {
		flushErr = n.Flush(ctx)
	}
	err := n.command(ctx, "stop")
	<-n.done
	if err == nil && flushErr != nil {
		err = flushErr
	}
	return err
}

func (n *Native) command(ctx context.Context, kind string) error {
	c := command{kind: kind, reply: make(chan error, 1), ctx: ctx}
	select {
	case n.cmds <- c:
	case <-n.done:
		return n.runErr
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status implements Syncer.
func (n *Native) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.status
	s.Conflicts = slices.Clone(s.Conflicts)
	s.Refused = slices.Clone(s.Refused)
	s.Warnings = slices.Clone(s.Warnings)
	return s
}

func (n *Native) setState(s State, err error) {
	n.mu.Lock()
	n.status.State = s
	n.status.Err = ""
	if err != nil {
		n.status.Err = err.Error()
	}
	if s == StateWatching {
		n.status.LastSync = time.Now()
	}
	n.mu.Unlock()
	n.writeStatus()
}

func (n *Native) fail(err error) { n.setState(StateFailed, err) }

func (n *Native) setPending(p int) {
	n.mu.Lock()
	n.status.Pending = p
	n.mu.Unlock()
}

func (n *Native) synced() {
	n.mu.Lock()
	n.status.LastSync = time.Now()
	n.mu.Unlock()
}

// maxReports bounds the refusals, conflicts and warnings kept in Status.
const maxReports = 200

// report records a record from the session that was refused. It is called
// from the link's reader goroutines too.
func (n *Native) report(r guard.Refusal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.status.Refused = appendCapped(n.status.Refused, Refusal{Rule: r.Rule, Path: r.Path, Detail: r.Detail, Time: time.Now()})
}

func (n *Native) conflict(c Conflict) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.status.Conflicts = appendCapped(n.status.Conflicts, c)
}

func (n *Native) warn(msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !slices.Contains(n.status.Warnings, msg) {
		n.status.Warnings = appendCapped(n.status.Warnings, msg)
	}
}

func appendCapped[T any](s []T, v T) []T {
	if len(s) >= maxReports {
		s = slices.Delete(s, 0, 1)
	}
	return append(s, v)
}
