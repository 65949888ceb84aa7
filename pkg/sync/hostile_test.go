package sync_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/remote/remotetest"
	psync "github.com/paude-dev/paude/pkg/sync"
	"github.com/paude-dev/paude/pkg/sync/guard"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// The hostile-pod corpus: testdata/hostile.json lists crafted records a
// replaced helper sends. The helper is this test binary run as
// `__sync-agent` with PAUDE_SYNC_HOSTILE naming the case; it speaks the
// real protocol (package wire) and lies in it. Every case runs against
// the real engine: the records arrive in the manifest of the initial sync
// and again as change notifications afterwards.
const (
	hostileEnv        = "PAUDE_SYNC_HOSTILE"
	hostileCorpusEnv  = "PAUDE_SYNC_HOSTILE_CORPUS"
	hostileOutsideEnv = "PAUDE_SYNC_OUTSIDE"
	// hostileTrigger, created in the pod's directory (the helper's working
	// directory), starts a case's protocol violation.
	hostileTrigger = "go-hostile"
)

type hostileRecord struct {
	Op      string         `json:"op"`
	Kind    string         `json:"kind"`
	Path    string         `json:"path"`
	Target  string         `json:"target"`
	Mode    string         `json:"mode"`
	Content string         `json:"content"`
	Size    int64          `json:"size"`
	Phase   string         `json:"phase"`
	Reply   *hostileRecord `json:"reply"`
}

type hostileCase struct {
	Name            string          `json:"name"`
	Why             string          `json:"why"`
	Rule            guard.Rule      `json:"rule"`
	Records         []hostileRecord `json:"records"`
	Control         hostileRecord   `json:"control"`
	Setup           struct{ Symlinks map[string]string }
	CaseInsensitive bool `json:"caseInsensitive"`
	Limits          struct {
		MaxFileSize int64   `json:"maxFileSize"`
		EntryRate   float64 `json:"entryRate"`
		EntryBurst  int     `json:"entryBurst"`
	} `json:"limits"`
	Flood      uint32 `json:"flood"`
	Many       int    `json:"many"`
	OverCount  bool   `json:"overCount"`
	BreaksLink bool   `json:"breaksLink"`
}

func corpusPath(t testing.TB) string {
	p, err := filepath.Abs("testdata/hostile.json")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadCorpus(path, outside string) ([]hostileCase, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.ReplaceAll(b, []byte("${OUTSIDE}"), []byte(outside))
	var cases []hostileCase
	err = json.Unmarshal(b, &cases)
	return cases, err
}

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

// treeDigest fingerprints every object below root (names, kinds, modes,
// contents, link targets), skipping the paths in skip.
func treeDigest(t *testing.T, root string, skip ...string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if slices.Contains(skip, rel) {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v\n", rel, fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			fmt.Fprintf(h, "-> %s\n", target)
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// symlinksStayInside fails if a symlink below root resolves outside it
// (the user's own symlinks in allowed are skipped).
func symlinksStayInside(t *testing.T, root string, allowed map[string]string) {
	t.Helper()
	realRoot, _ := filepath.EvalSymlinks(root)
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if _, ok := allowed[rel]; ok {
			return nil
		}
		target, _ := os.Readlink(p)
		resolved := target
		if !filepath.IsAbs(target) {
			resolved = filepath.Join(filepath.Dir(p), target)
		}
		if real, err := filepath.EvalSymlinks(resolved); err == nil {
			resolved = real
		} else {
			resolved = filepath.Join(realRoot, strings.TrimPrefix(filepath.Clean(resolved), root))
		}
		if resolved != realRoot && !strings.HasPrefix(resolved, realRoot+"/") {
			t.Errorf("symlink %s -> %s leaves the workspace", rel, target)
		}
		return nil
	})
}

func TestHostilePodCorpus(t *testing.T) {
	corpus := corpusPath(t)
	cases, err := loadCorpus(corpus, "/outside")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 14 {
		t.Fatalf("the corpus has %d cases, want at least 14", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			p := newPair(t)
			base := filepath.Dir(p.local)
			outside := filepath.Join(base, "outside")
			write(t, outside, "sentinel", "untouched")
			// Reload with the real outside path.
			cs, err := loadCorpus(corpus, outside)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.Name == tc.Name {
					tc = c
				}
			}
			write(t, p.local, ".git/config", "[core]\n")
			write(t, p.local, ".git/HEAD", "ref: refs/heads/main\n")
			write(t, p.local, ".git/hooks/pre-commit.sample", "#!/bin/sh\n")
			write(t, p.local, "sub/existing.txt", "mine")
			for link, target := range tc.Setup.Symlinks {
				if err := os.Symlink(target, filepath.Join(p.local, link)); err != nil {
					t.Fatal(err)
				}
			}
			gitBefore := treeDigest(t, filepath.Join(p.local, ".git"))
			outsideBefore := treeDigest(t, base, "local", "pod", "cache")

			opts := p.options(t)
			opts.Exec = &remotetest.Local{Dir: p.pod, Env: append(os.Environ(),
				hostileEnv+"="+tc.Name, hostileCorpusEnv+"="+corpus, hostileOutsideEnv+"="+outside)}
			opts.CaseInsensitive = &tc.CaseInsensitive
			opts.Limits = guard.Limits{MaxFileSize: tc.Limits.MaxFileSize, EntryRate: tc.Limits.EntryRate, EntryBurst: tc.Limits.EntryBurst}
			n, err := psync.NewNative(opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx := ctxT(t)
			if err := n.Start(ctx); err != nil {
				t.Fatalf("start: %v", err)
			}
			reported := func() bool {
				for _, r := range n.Status().Refused {
					if r.Rule == tc.Rule {
						return true
					}
				}
				return false
			}
			if tc.BreaksLink {
				write(t, p.pod, hostileTrigger, "")
				eventually(t, "the refusal", reported)
			} else {
				eventually(t, "the notify phase", func() bool { return exists(p.local, "notify-done.txt") })
			}
			stopErr := n.Stop(ctx)
			if !tc.BreaksLink && stopErr != nil {
				t.Fatalf("stop: %v", stopErr)
			}
			if got := treeDigest(t, base, "local", "pod", "cache"); got != outsideBefore {
				t.Fatal("something was written outside the workspace")
			}
			if got := treeDigest(t, filepath.Join(p.local, ".git")); got != gitBefore {
				t.Fatal(".git changed")
			}
			st := n.Status()
			if !reported() {
				t.Fatalf("not reported as %s; refused: %v", tc.Rule, st.Refused)
			}
			for _, r := range st.Refused {
				if strings.ContainsAny(r.String(), "\x00\x1b") {
					t.Fatalf("raw control characters in a report: %q", r.String())
				}
			}
			symlinksStayInside(t, p.local, tc.Setup.Symlinks)
			checkControl(t, p.local, tc.Control)
			for i := range tc.Many {
				if !exists(p.local, fmt.Sprintf("many-%03d.txt", i)) {
					t.Fatalf("entry %d was dropped instead of slowed down", i)
				}
			}
		})
	}
}

// checkControl: a legitimate record of the same shape was applied.
func checkControl(t *testing.T, root string, c hostileRecord) {
	t.Helper()
	abs := filepath.Join(root, c.Path)
	fi, err := os.Lstat(abs)
	if err != nil {
		t.Fatalf("control %s not applied: %v", c.Path, err)
	}
	switch c.Kind {
	case "symlink":
		if got, _ := os.Readlink(abs); got != c.Target {
			t.Fatalf("control symlink -> %q", got)
		}
	case "file":
		if got, _ := os.ReadFile(abs); string(got) != c.body() {
			t.Fatalf("control content %q", got)
		}
		if c.Mode == "0755" && fi.Mode().Perm()&0o100 == 0 {
			t.Fatalf("control lost its executable bit: %v", fi.Mode())
		}
	}
}
