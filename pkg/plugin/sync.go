package plugin

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/sync"
	"github.com/paude-dev/paude/pkg/termfilter"
)

// SyncOptions are `paude sync [ID] [--status|--flush|--once]`'s.
type SyncOptions struct {
	sessionTarget
	// Status prints the session's sync state; Flush makes the running
	// sync send pending local changes now; Once reconciles once.
	Status, Flush, Once bool
}

// NewCmdSync keeps a session's copy of the workspace in step with the
// workspace, or reports on it.
func NewCmdSync(root *RootOptions) *cobra.Command {
	o := &SyncOptions{sessionTarget: sessionTarget{root: root}}
	name := root.Flavor.DisplayName
	cmd := &cobra.Command{
		Use:   "sync [SESSION_ID] [--status | --flush | --once]",
		Short: "Sync a cluster session's copy of the workspace, or show its state (default: the most recent session)",
		Long: longDesc(`
			A cluster session works on a copy of your workspace in its pod. Starting
			and attaching keep the copy in step; sync does it without a terminal:
			until interrupted (C-c), or once with --once. Both then fetch the agent's
			commits into your repository as paude/<session>/<branch> and print them.
			--status shows the engine, its state, the last sync, pending changes,
			conflicts and the commits fetched; --flush makes a running sync send your
			pending changes now. A Podman session works on the workspace itself: there
			are no files to sync, and sync only fetches the agent's commits.`),
		Example: templates.Examples(fmt.Sprintf(`
			# Keep the most recent session in step until C-c
			%[1]s sync

			# Reconcile once (after a laptop sleep, say) and fetch the agent's commits
			%[1]s sync --once

			# Show the state of a session's sync
			%[1]s sync 1764270000-3f2a9c1d --status`, name)),
		Args: maxArgs(root, 1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	cmd.Flags().BoolVar(&o.Status, "status", false, "show the engine, state, last sync, pending changes, conflicts and fetched commits")
	cmd.Flags().BoolVar(&o.Flush, "flush", false, "make the running sync send pending local changes now, and wait")
	cmd.Flags().BoolVar(&o.Once, "once", false, "reconcile once, fetch the agent's commits and exit")
	return cmd
}

// Complete records the arguments.
func (o *SyncOptions) Complete(c *cobra.Command, args []string) error {
	return o.complete(c, args)
}

// Validate accepts at most one mode flag and a well-formed ID.
func (o *SyncOptions) Validate() error {
	n := 0
	for _, set := range []bool{o.Status, o.Flush, o.Once} {
		if set {
			n++
		}
	}
	if n > 1 {
		return &UsageError{Msg: "give one of --status, --flush and --once", Command: displayPath(o.cmd, o.root)}
	}
	return o.validate()
}

// Run does what the flags ask.
func (o *SyncOptions) Run(ctx context.Context) error {
	copier, ok := o.b.(backend.WorkspaceCopier)
	if !ok {
		return o.mounted(ctx)
	}
	id, err := o.resolve(ctx)
	if err != nil {
		return err
	}
	w, err := copier.WorkspaceCopy(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case o.Status:
		return o.printStatus(w)
	case o.Flush:
		return o.flush(ctx, w)
	case o.Once:
		return w.Once(ctx, o.root.Progress())
	}
	return o.foreground(ctx, w)
}

// mounted is sync on a backend whose sessions work on the workspace
// itself: no files to sync, only the agent's commits to fetch, when the
// backend can.
func (o *SyncOptions) mounted(ctx context.Context) error {
	errOut := o.root.Streams.ErrOut
	_, _ = fmt.Fprintf(errOut, "%s sessions work on your workspace itself (it is mounted into the container): there are no files to sync\n", o.b.Type())
	f, ok := o.b.(backend.CommitFetcher)
	if !ok || o.Status || o.Flush {
		return nil
	}
	id, err := o.resolve(ctx)
	if err != nil {
		return err
	}
	return f.FetchCommits(ctx, id, errOut)
}

// foreground keeps the session in step until the command is interrupted,
// then ends with a final pull and the fetch of the agent's commits.
func (o *SyncOptions) foreground(ctx context.Context, w *backend.WorkspaceCopy) error {
	if w.SyncRunsElsewhere() {
		return fmt.Errorf("the workspace of session %s is already kept in step by another %s process on this machine: see '%s sync %s --status', or ask it to reconcile with --once",
			w.SessionID, o.root.Flavor.DisplayName, o.root.Flavor.DisplayName, w.SessionID)
	}
	progress := o.root.Progress()
	s, err := w.Start(ctx, progress)
	if err != nil {
		return err
	}
	fmt.Fprintf(progress, "Syncing %s with session %s (%s engine) until interrupted (C-c)\n", w.Workspace, w.SessionID, s.Engine())
	<-ctx.Done()
	return w.Finish(ctx, s, progress)
}

// flush asks the sync running for the session to send pending changes.
func (o *SyncOptions) flush(ctx context.Context, w *backend.WorkspaceCopy) error {
	if !w.SyncRunsElsewhere() {
		return fmt.Errorf("no sync is running for session %s on this machine, so there is nothing to flush: '%s attach %s' or '%s sync %s' runs one",
			w.SessionID, o.root.Flavor.DisplayName, w.SessionID, o.root.Flavor.DisplayName, w.SessionID)
	}
	if err := sync.Control(ctx, w.CacheDir, w.SessionID, "flush"); err != nil {
		return fmt.Errorf("failed to flush the sync of session %s: %w", w.SessionID, err)
	}
	_, err := fmt.Fprintf(o.root.Streams.ErrOut, "The session %s has your local changes\n", w.SessionID)
	return err
}

// printStatus writes the session's sync state on Out.
func (o *SyncOptions) printStatus(w *backend.WorkspaceCopy) error {
	out := o.root.Streams.Out
	st, err := sync.ReadStatus(w.CacheDir, w.SessionID)
	never := err != nil
	if never {
		st = sync.Status{Engine: w.Method}
	}
	fetched, ferr := backend.LastFetch(w.CacheDir, w.SessionID)
	return writeSyncStatus(out, w, st, never, fetched, ferr, time.Now())
}

// writeSyncStatus renders a sync status for a person.
func writeSyncStatus(out io.Writer, w *backend.WorkspaceCopy, st sync.Status, never bool, fetched *backend.FetchRecord, ferr error, now time.Time) error {
	p := func(format string, args ...any) { _, _ = fmt.Fprintf(out, format+"\n", args...) }
	engine := st.Engine
	if engine == "" || engine == sync.MethodAuto {
		engine = sync.EngineNative
	}
	p("Session:    %s", w.SessionID)
	p("Workspace:  %s -> %s in pod %s", w.Workspace, w.Remote, w.Pod)
	p("Engine:     %s", engine)
	switch {
	case never && engine == sync.EngineDevSpace:
		p("State:      unknown (DevSpace keeps its state to itself)")
	case never:
		p("State:      never synced from this machine")
	case backend.Running(st):
		p("State:      %s", st.State)
	default:
		p("State:      %s (no sync is running now)", st.State)
	}
	if st.Err != "" {
		p("Error:      %s", termfilter.Sanitize(st.Err))
	}
	if !st.LastSync.IsZero() {
		p("Last sync:  %s (%s ago)", st.LastSync.Local().Format(time.DateTime), now.Sub(st.LastSync).Round(time.Second))
	}
	if backend.Running(st) && st.Pending >= 0 {
		p("Pending:    %d local changes not yet in the session", st.Pending)
	}
	// Each list as backend.Report words it, indented under its heading.
	for _, part := range []struct {
		heading string
		n       int
		only    sync.Status
	}{
		{"Conflicts:", len(st.Conflicts), sync.Status{Conflicts: st.Conflicts}},
		{"Refused:", len(st.Refused), sync.Status{Refused: st.Refused}},
		{"Warnings:", len(st.Warnings), sync.Status{Warnings: st.Warnings}},
	} {
		if part.n == 0 && part.heading != "Conflicts:" {
			continue
		}
		p("%-11s %d", part.heading, part.n)
		var b strings.Builder
		backend.Report(&b, part.only)
		for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if l != "" {
				p("  %s", l)
			}
		}
	}
	switch {
	case ferr != nil:
		p("Commits:    %v", ferr)
	case fetched == nil:
		p("Commits:    none fetched from this machine yet")
	case len(fetched.Refs) == 0:
		p("Commits:    no new commits at the last fetch (%s)", fetched.Time.Local().Format(time.DateTime))
	default:
		p("Commits:    fetched %s:", fetched.Time.Local().Format(time.DateTime))
		for _, r := range fetched.Refs {
			p("  %s at %.12s, %d new", r.Name, r.New, r.Commits)
		}
	}
	return nil
}
