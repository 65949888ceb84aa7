package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/paude-dev/paude/pkg/gitboundary"
	"github.com/paude-dev/paude/pkg/hostrun"
	"github.com/paude-dev/paude/pkg/sync"
	"github.com/paude-dev/paude/pkg/sync/guard"
)

// What this machine keeps about a session's copy, beside sync's own state
// (sync.StateDirFor): the host-run snapshot of the last review
// ("hostrun.json") and what the last fetch brought ("fetch.json", for
// `sync --status`).
const (
	hostRunFile = "hostrun.json"
	fetchFile   = "fetch.json"
)

// FetchRecord is what the last fetch of a session's commits brought.
type FetchRecord struct {
	// Time is when it ran.
	Time time.Time `json:"time"`
	// Refs are the refs it created or moved, as the user names them
	// ("paude/<id>/main"), with how many new commits each brought.
	Refs []FetchedRef `json:"refs,omitempty"`
}

// FetchedRef is one ref a fetch created or moved.
type FetchedRef struct {
	Name    string `json:"name"`
	New     string `json:"new"`
	Commits int    `json:"commits"`
}

func (w *WorkspaceCopy) stateFile(name string) (string, error) {
	dir, err := sync.StateDirFor(w.CacheDir, w.SessionID)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// writeState writes one of the session's state files, readable by the
// user only (it names their files and branches).
func writeState(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return err
	}
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// readState reads a state file into v; false when there is none.
func readState(name string, v any) (bool, error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("unreadable %s: %w: delete it", name, err)
	}
	return true, nil
}

// recordFetch keeps what a fetch brought for `sync --status`; a failure
// to write it only costs that.
func (w *WorkspaceCopy) recordFetch(res *gitboundary.FetchResult) {
	rec := FetchRecord{Time: time.Now()}
	for _, u := range res.Updates {
		rec.Refs = append(rec.Refs, FetchedRef{Name: u.Name, New: u.New, Commits: len(u.Commits) + u.MoreCommits})
	}
	if name, err := w.stateFile(fetchFile); err == nil {
		_ = writeState(name, rec)
	}
}

// LastFetch is what the last fetch of the session's commits on this
// machine brought; nil when none has run.
func LastFetch(cacheDir, id string) (*FetchRecord, error) {
	w := WorkspaceCopy{CacheDir: cacheDir, SessionID: id}
	name, err := w.stateFile(fetchFile)
	if err != nil {
		return nil, err
	}
	var rec FetchRecord
	ok, err := readState(name, &rec)
	if !ok || err != nil {
		return nil, err
	}
	return &rec, nil
}

// snapshot records the workspace's host-run files before a session
// starts, for the reviews after its syncs.
func (w *WorkspaceCopy) snapshot(ctx context.Context) error {
	snap, err := hostrun.Take(ctx, w.Workspace)
	if err != nil {
		return err
	}
	name, err := w.stateFile(hostRunFile)
	if err != nil {
		return err
	}
	if err := writeState(name, snap); err != nil {
		return fmt.Errorf("failed to record the workspace's host-run files: %w", err)
	}
	return nil
}

// reportHostRun compares the host-run files with the last review, prints
// what changed and makes now the next review's starting point. Without
// a snapshot (a session started on another machine) it takes one.
func (w *WorkspaceCopy) reportHostRun(ctx context.Context, out io.Writer) error {
	name, err := w.stateFile(hostRunFile)
	if err != nil {
		return err
	}
	var before hostrun.Snapshot
	ok, err := readState(name, &before)
	if err != nil {
		return err
	}
	if !ok {
		return w.snapshot(ctx)
	}
	after, err := hostrun.Take(ctx, w.Workspace)
	if err != nil {
		return err
	}
	rep, err := hostrun.Compare(&before, after)
	if err != nil {
		return err
	}
	if _, err := rep.WriteTo(out); err != nil {
		return err
	}
	return writeState(name, after)
}

// quotePath shows a path that may come from the session safely.
func quotePath(p string) string { return guard.Printable(p) }
