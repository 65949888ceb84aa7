package sync_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	stdsync "sync"
	"time"

	"github.com/paude-dev/paude/pkg/sync/wire"
)

var kinds = map[string]wire.Kind{
	"file": wire.KindFile, "dir": wire.KindDir, "symlink": wire.KindSymlink, "hardlink": wire.KindHardlink,
	"chardev": wire.KindCharDevice, "blockdev": wire.KindBlockDevice, "fifo": wire.KindFIFO, "socket": wire.KindSocket,
}

func (r hostileRecord) entry() wire.Entry {
	e := wire.Entry{Op: wire.OpPut, Kind: kinds[r.Kind], Path: r.Path, Target: r.Target, Mtime: 1_700_000_000_000_000_000, Ino: 0}
	if r.Op == "delete" {
		e.Op = wire.OpDelete
	}
	switch {
	case r.Mode != "":
		m, _ := strconv.ParseUint(r.Mode, 8, 32)
		e.Mode = uint32(m)
	case e.Kind == wire.KindDir:
		e.Mode = 0o755
	default:
		e.Mode = 0o644
	}
	if e.Kind == wire.KindFile {
		e.Size = int64(len(r.Content))
		if r.Size > 0 {
			e.Size = r.Size
		}
	}
	return e
}

func (r hostileRecord) body() string {
	if r.Size > int64(len(r.Content)) {
		return r.Content + strings.Repeat("z", int(r.Size)-len(r.Content))
	}
	return r.Content
}

// runHostile is the replaced helper.
func runHostile(name, mode string) int {
	cases, err := loadCorpus(os.Getenv(hostileCorpusEnv), os.Getenv(hostileOutsideEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var c *hostileCase
	for i := range cases {
		if cases[i].Name == name {
			c = &cases[i]
		}
	}
	if c == nil {
		fmt.Fprintln(os.Stderr, "no such case", name)
		return 1
	}
	r, w := wire.NewReader(os.Stdin), wire.NewWriter(os.Stdout)
	if _, err := r.Expect(wire.FrameHello); err != nil {
		return 1
	}
	_ = w.Hello(wire.Hello{Version: wire.Version, Config: []byte(`{"mode":"hostile"}`)})
	_ = w.Flush()
	if mode == "recv" {
		err = hostileRecv(r, w)
	} else {
		err = hostileWatch(c, r, w)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// hostileRecv acknowledges every push without applying it.
func hostileRecv(r *wire.Reader, w *wire.Writer) error {
	for {
		_, p, err := r.Next()
		if err != nil {
			return err
		}
		start, err := wire.DecodeStart(p)
		if err != nil {
			return err
		}
		var results []wire.Result
		for range start.Count {
			p, err := r.Expect(wire.FrameEntry)
			if err != nil {
				return err
			}
			e, _ := wire.DecodeEntry(p)
			if e.Op == wire.OpPut && e.Kind == wire.KindFile {
				if _, err := r.File(&e).Finish(); err != nil {
					return err
				}
			}
			results = append(results, wire.Result{Path: e.Path, OK: true, Kind: e.Kind, Mode: e.Mode, Size: e.Size, Mtime: e.Mtime})
		}
		if _, err := r.Expect(wire.FrameEnd); err != nil {
			return err
		}
		_ = w.Start(wire.Start{Kind: wire.BatchAck, ID: start.ID, Count: uint32(len(results))})
		for i := range results {
			_ = w.Result(&results[i])
		}
		_ = w.End(start.ID)
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

func (c *hostileCase) phase(name string) []hostileRecord {
	var out []hostileRecord
	for _, r := range c.Records {
		if r.Phase == "" || r.Phase == name {
			out = append(out, r)
		}
	}
	if name == "manifest" {
		out = append(out, c.Control)
		for i := range c.Many {
			out = append(out, hostileRecord{Kind: "file", Path: fmt.Sprintf("many-%03d.txt", i), Content: "m"})
		}
	}
	return out
}

// hostileWatch answers requests with the case's records and, after the
// manifest, notifies them again (or floods, or miscounts).
func hostileWatch(c *hostileCase, r *wire.Reader, w *wire.Writer) error {
	var mu stdsync.Mutex
	if c.BreaksLink {
		// Break the protocol once the test says the initial sync is over
		// (it creates the trigger file in the "pod").
		go func() {
			for {
				if _, err := os.Stat(hostileTrigger); err == nil {
					mu.Lock()
					hostileNotify(c, w)
					_ = w.Flush()
					mu.Unlock()
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	all := append(c.phase("manifest"), c.phase("notify")...)
	all = append(all, hostileRecord{Kind: "file", Path: "notify-done.txt", Content: "done"})
	for {
		_, p, err := r.Next()
		if err != nil {
			return err
		}
		req, err := wire.DecodeRequest(p)
		if err != nil {
			return err
		}
		mu.Lock()
		switch req.Kind {
		case wire.RequestManifest:
			_ = w.Start(wire.Start{Kind: wire.BatchManifest, ID: req.ID, Count: wire.CountUnknown})
			for _, rec := range c.phase("manifest") {
				e := rec.entry()
				_ = w.Entry(&e)
			}
			_ = w.End(req.ID)
			if !c.BreaksLink {
				hostileNotify(c, w)
			}
		case wire.RequestGet:
			_ = w.Start(wire.Start{Kind: wire.BatchContent, ID: req.ID, Count: uint32(len(req.Paths))})
			for _, path := range req.Paths {
				rec := hostileRecord{Op: "delete", Path: path}
				for _, have := range all {
					if have.Path == path {
						rec = have
						if have.Reply != nil {
							rec = *have.Reply
						}
					}
				}
				e := rec.entry()
				_ = w.Entry(&e)
				if e.Op == wire.OpPut && e.Kind == wire.KindFile {
					_, _ = w.Content(strings.NewReader(rec.body()), e.Size)
					_ = w.Trailer(wire.TrailerOK)
				}
			}
			_ = w.End(req.ID)
		case wire.RequestHash:
			_ = w.Start(wire.Start{Kind: wire.BatchHashes, ID: req.ID, Count: uint32(len(req.Paths))})
			for _, path := range req.Paths {
				_ = w.Hash(wire.Hash{Path: path, Missing: true})
			}
			_ = w.End(req.ID)
		case wire.RequestMarker, wire.RequestWatch:
			_ = w.Start(wire.Start{Kind: wire.BatchMarker, ID: req.ID})
			_ = w.End(req.ID)
		}
		err = w.Flush()
		mu.Unlock()
		if err != nil {
			return err
		}
	}
}

func hostileNotify(c *hostileCase, w *wire.Writer) {
	switch {
	case c.Flood > 0:
		// Declare far more than the host takes; the host must refuse
		// before reading them.
		_ = w.Start(wire.Start{Kind: wire.BatchNotify, ID: 0, Count: c.Flood})
		e := wire.Entry{Op: wire.OpPut, Kind: wire.KindFile, Path: "flood", Size: 1}
		_ = w.Entry(&e)
		return
	case c.OverCount:
		_ = w.Start(wire.Start{Kind: wire.BatchNotify, ID: 0, Count: 1})
		for i := range 3 {
			e := wire.Entry{Op: wire.OpPut, Kind: wire.KindFile, Path: fmt.Sprintf("extra-%d", i), Size: 1}
			_ = w.Entry(&e)
		}
		_ = w.End(0)
		return
	}
	recs := c.phase("notify")
	recs = append(recs, hostileRecord{Kind: "file", Path: "notify-done.txt", Content: "done"})
	_ = w.Start(wire.Start{Kind: wire.BatchNotify, Count: uint32(len(recs))})
	for _, rec := range recs {
		e := rec.entry()
		e.Mtime++ // a change since the manifest
		_ = w.Entry(&e)
	}
	_ = w.End(0)
}
