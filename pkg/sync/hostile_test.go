package sync_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/remote/remotetest"
	psync "github.com/paude-dev/paude/pkg/sync"
	"github.com/paude-dev/paude/pkg/sync/guard"
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
