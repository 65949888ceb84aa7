package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// runRecv applies apply batches from the host and acks each with the
// resulting stats.
func runRecv(ctx context.Context, cfg Config, r *wire.Reader, w *wire.Writer) error {
	// Applying a tree allocates a little per file and keeps almost
	// nothing: collecting less often is measurably faster on a large
	// push, and the live heap stays a few MiB.
	debug.SetGCPercent(400)
	x, err := tree.NewExcludes(cfg.Excludes)
	if err != nil {
		return err
	}
	// The host is trusted here; the policy only keeps the helper from
	// writing through symlinks the agent planted. The user's symlinks
	// arrive as symlinks and may point anywhere.
	ws, err := guard.Open(cfg.Root, guard.Policy{Excludes: x, AllowSymlinkEscape: true, WriteInPlace: true, AllowRepositoryShape: true})
	if err != nil {
		return err
	}
	defer func() { _ = ws.Close() }()
	if err := sendHello(w, Reply{Mode: ModeRecv, PID: os.Getpid()}); err != nil {
		return err
	}
	var results []wire.Result
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		typ, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			// The host closed the stream between batches: done.
			return nil
		}
		if err != nil {
			return err
		}
		if typ != wire.FrameStart {
			return fmt.Errorf("%w: got frame %q, expected a batch", wire.ErrProtocol, typ)
		}
		start, err := wire.DecodeStart(p)
		if err != nil {
			return err
		}
		results = results[:0]
		ws.ResetBatch()
		for range start.Count {
			p, err := r.Expect(wire.FrameEntry)
			if err != nil {
				return err
			}
			e, err := wire.DecodeEntry(p)
			if err != nil {
				return err
			}
			res, err := applyOne(ws, r, &e)
			if err != nil {
				return err
			}
			results = append(results, res)
		}
		p, err = r.Expect(wire.FrameEnd)
		if err != nil {
			return err
		}
		if _, err := wire.DecodeEnd(p); err != nil {
			return err
		}
		if err := writeAck(w, start.ID, results); err != nil {
			return err
		}
	}
}

// applyOne applies one entry; only stream errors are returned, a failure
// to apply becomes a failed Result.
func applyOne(ws *guard.Workspace, r *wire.Reader, e *wire.Entry) (wire.Result, error) {
	if res, ok := checkExpect(ws, e); !ok {
		if e.Op == wire.OpPut && e.Kind == wire.KindFile {
			if _, err := r.File(e).Finish(); err != nil {
				return wire.Result{}, err
			}
		}
		return res, nil
	}
	var st wire.Entry
	var err error
	switch {
	case e.Op == wire.OpPut && e.Kind == wire.KindFile:
		fc := r.File(e)
		st, err = ws.PutFile(e, fc, fc.Finish)
		if _, ferr := fc.Finish(); ferr != nil {
			return wire.Result{}, ferr
		}
	case e.Op == wire.OpPut && e.Kind == wire.KindDir:
		st, err = ws.Mkdir(e)
	case e.Op == wire.OpPut && e.Kind == wire.KindSymlink:
		st, err = ws.Symlink(e)
	case e.Op == wire.OpDelete:
		_, err = ws.Remove(e.Path, nil)
		st = wire.Entry{Path: e.Path}
	case e.Op == wire.OpRename:
		st, err = ws.Rename(e.Target, e.Path)
	default:
		err = errors.New("unsupported entry")
	}
	if err != nil {
		return wire.Result{Path: e.Path, Err: err.Error()}, nil
	}
	return wire.Result{Path: e.Path, OK: true, Kind: st.Kind, Mode: st.Mode, Size: st.Size, Mtime: st.Mtime, Ino: st.Ino}, nil
}

func writeAck(w *wire.Writer, id uint64, results []wire.Result) error {
	if err := w.Start(wire.Start{Kind: wire.BatchAck, ID: id, Count: uint32(len(results))}); err != nil {
		return err
	}
	for i := range results {
		if err := w.Result(&results[i]); err != nil {
			return err
		}
	}
	if err := w.End(id); err != nil {
		return err
	}
	return w.Flush()
}

// checkExpect compares the object at the entry's path (the old path for a
// rename) with what the host expects; on a mismatch the result reports
// what is there instead.
func checkExpect(ws *guard.Workspace, e *wire.Entry) (wire.Result, bool) {
	if e.Expect.Any {
		return wire.Result{}, true
	}
	at := e.Path
	if e.Op == wire.OpRename {
		at = e.Target
	}
	have, ok, err := ws.Lstat(at)
	if err != nil {
		return wire.Result{Path: e.Path, Err: err.Error()}, false
	}
	if !e.Expect.Matches(have, ok) {
		res := wire.Result{Path: e.Path, Conflict: true}
		if ok {
			res.Kind, res.Mode, res.Size, res.Mtime, res.Ino = have.Kind, have.Mode, have.Size, have.Mtime, have.Ino
		}
		return res, false
	}
	if e.Op == wire.OpRename {
		if _, taken, _ := ws.Lstat(e.Path); taken {
			return wire.Result{Path: e.Path, Conflict: true}, false
		}
	}
	return wire.Result{}, true
}
