package guard

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// ErrChanged is returned by PutFile when the sender said the content
// changed while it was read: nothing was written.
var ErrChanged = errors.New("file changed while it was sent")

// ErrNotEmpty is returned when a directory that is to be replaced still
// holds files: the caller removes what it may first.
var ErrNotEmpty = errors.New("directory is not empty")

// Workspace applies records to a directory tree with the *at calls,
// never following a symlink on the way and enforcing its Policy. It is
// not safe for concurrent use.
type Workspace struct {
	dir    *tree.Dir
	policy Policy
	// fold caches, per parent directory, the fold keys of its entries
	// (Policy.CaseInsensitive only); ResetBatch drops it.
	fold map[string]map[string]string
	// cacheRel/cacheDir keep the last parent directory open: entries come
	// parents first, so runs of files share one. Anything that removes or
	// moves a directory drops it.
	cacheRel string
	cacheDir *tree.Dir
	// stale are invalidated cache entries still in use by the current
	// call; they are closed at the next parent lookup.
	stale []*tree.Dir
}

// Open opens the workspace at root.
func Open(root string, p Policy) (*Workspace, error) {
	d, err := tree.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("failed to open workspace %s: %w", root, err)
	}
	p.Limits = p.Limits.WithDefaults()
	return &Workspace{dir: d, policy: p, fold: map[string]map[string]string{}}, nil
}

// Close releases the workspace's directory.
func (w *Workspace) Close() error {
	w.dropCache()
	return w.dir.Close()
}

func (w *Workspace) dropCache() {
	if w.cacheDir != nil {
		_ = w.cacheDir.Close()
	}
	for _, d := range w.stale {
		_ = d.Close()
	}
	w.cacheDir, w.cacheRel, w.stale = nil, "", w.stale[:0]
}

// Dir is the workspace root, for reading.
func (w *Workspace) Dir() *tree.Dir { return w.dir }

// Policy is the policy the workspace enforces.
func (w *Workspace) Policy() *Policy { return &w.policy }

// ResetBatch forgets cached directory listings and descriptors; call it
// between batches so that changes made by others are seen.
func (w *Workspace) ResetBatch() {
	clear(w.fold)
	w.dropCache()
}

// parent is parentUncached through the one-directory cache: the result
// stays valid until the next call on w.
func (w *Workspace) parent(rel string, create bool) (*tree.Dir, string, func(), error) {
	parentRel, name := tree.SplitParent(rel)
	if parentRel == "" {
		return w.dir, name, func() {}, nil
	}
	for _, d := range w.stale {
		_ = d.Close()
	}
	w.stale = w.stale[:0]
	if w.cacheDir != nil && w.cacheRel == parentRel {
		return w.cacheDir, name, func() {}, nil
	}
	d, name, _, err := w.parentUncached(rel, create)
	if err != nil {
		return nil, "", nil, err
	}
	w.dropCache()
	w.cacheDir, w.cacheRel = d, parentRel
	return d, name, func() {}, nil
}

// Lstat describes the object at rel without following a symlink on the
// way; ok is false when nothing is there (or a parent is not a plain
// directory).
func (w *Workspace) Lstat(rel string) (wire.Entry, bool, error) {
	pd, name, _, err := w.parent(rel, false)
	if err != nil {
		var r *Refusal
		if errors.Is(err, unix.ENOENT) || errors.Is(err, tree.ErrNotDirAncestor) || errors.As(err, &r) {
			return wire.Entry{}, false, nil
		}
		return wire.Entry{}, false, err
	}
	return pd.Lstat(name, rel)
}

// parentUncached opens the directory that holds rel, creating missing
// directories when create is set; the caller releases it. A symlink on
// the way is a Refusal.
func (w *Workspace) parentUncached(rel string, create bool) (*tree.Dir, string, func(), error) {
	parentRel, name := tree.SplitParent(rel)
	if parentRel == "" {
		return w.dir, name, func() {}, nil
	}
	cur := w.dir
	release := func() {}
	done := ""
	for _, c := range strings.Split(parentRel, "/") {
		if r := w.checkFold(cur, done, c); r != nil {
			release()
			r.Path = rel
			return nil, "", nil, r
		}
		next, err := cur.Sub(c)
		if errors.Is(err, unix.ENOENT) && create {
			if err = unix.Mkdirat(cur.FD(), c, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
				w.noteName(done, c)
				next, err = cur.Sub(c)
			}
		}
		if cur != w.dir {
			_ = cur.Close()
		}
		if err != nil {
			if errors.Is(err, tree.ErrSymlinkAncestor) {
				return nil, "", nil, refuse(RuleSymlinkAncestor, rel, "a parent directory is a symlink: sync never writes through one")
			}
			return nil, "", nil, fmt.Errorf("failed to open the parent of %s: %w", Printable(rel), err)
		}
		cur = next
		release = func() { _ = next.Close() }
		if done == "" {
			done = c
		} else {
			done += "/" + c
		}
	}
	return cur, name, release, nil
}

// checkFold refuses name in parentRel when another name there differs
// from it only by case or Unicode normalisation.
func (w *Workspace) checkFold(d *tree.Dir, parentRel, name string) *Refusal {
	if !w.policy.CaseInsensitive {
		return nil
	}
	m, ok := w.fold[parentRel]
	if !ok {
		names, err := d.Names()
		if err != nil {
			return nil
		}
		m = make(map[string]string, len(names))
		for _, n := range names {
			m[tree.FoldKey(n)] = n
		}
		w.fold[parentRel] = m
	}
	if have, ok := m[tree.FoldKey(name)]; ok && have != name {
		return refuse(RuleCaseCollision, name, "collides with %s on a case-insensitive file system", Printable(have))
	}
	return nil
}

func (w *Workspace) noteName(parentRel, name string) {
	if m, ok := w.fold[parentRel]; ok {
		m[tree.FoldKey(name)] = name
	}
}

func (w *Workspace) forgetName(parentRel, name string) {
	if m, ok := w.fold[parentRel]; ok {
		delete(m, tree.FoldKey(name))
	}
}

// prepare resolves rel's parent for a write and checks the final name.
func (w *Workspace) prepare(rel string) (*tree.Dir, string, func(), error) {
	if r := CheckPath(rel); r != nil {
		return nil, "", nil, r
	}
	pd, name, release, err := w.parent(rel, true)
	if err != nil {
		return nil, "", nil, err
	}
	parentRel, _ := tree.SplitParent(rel)
	if r := w.checkFold(pd, parentRel, name); r != nil {
		release()
		r.Path = rel
		return nil, "", nil, r
	}
	if r := w.checkRepositoryShape(pd, rel, name); r != nil {
		release()
		return nil, "", nil, r
	}
	return pd, name, release, nil
}

// repositoryPart names the entries git's discovery looks for to take a
// directory for a git directory (HEAD, with objects and refs or a
// commondir naming where they are), "" for any other name. Case is
// ignored: a file system that folds case answers git's lookups for
// either spelling.
func repositoryPart(name string) string {
	for _, part := range []string{"HEAD", "objects", "refs", "commondir"} {
		if strings.EqualFold(name, part) {
			return part
		}
	}
	return ""
}

// checkRepositoryShape refuses the write of name into pd when it would
// complete the shape of a git directory there: git on this machine would
// then take that directory (and everything below it) for a repository
// and read its config, which can name programs git runs. Unreadable
// siblings count as a refusal.
func (w *Workspace) checkRepositoryShape(pd *tree.Dir, rel, name string) *Refusal {
	part := repositoryPart(name)
	if w.policy.AllowRepositoryShape || part == "" {
		return nil
	}
	names, err := pd.Names()
	if err != nil {
		return refuse(RuleGitDir, rel, "cannot check whether its directory would become a git repository: %v", err)
	}
	have := map[string]bool{part: true}
	for _, n := range names {
		if p := repositoryPart(n); p != "" {
			have[p] = true
		}
	}
	if have["HEAD"] && (have["objects"] && have["refs"] || have["commondir"]) {
		return refuse(RuleGitDir, rel, "it would make its directory a git repository (HEAD with objects and refs, or commondir), whose config your git would run")
	}
	return nil
}

// invalidate drops the cached directory after a directory was removed:
// it may have been the one cached or below it. The caller's pd stays open
// until it returns (the cache closes it only on the next parent call).
func (w *Workspace) invalidate() {
	if w.cacheDir != nil {
		w.stale = append(w.stale, w.cacheDir)
	}
	w.cacheDir, w.cacheRel = nil, ""
}

// Mkdir makes e.Path a directory, replacing a file or symlink there.
func (w *Workspace) Mkdir(e *wire.Entry) (wire.Entry, error) {
	pd, name, release, err := w.prepare(e.Path)
	if err != nil {
		return wire.Entry{}, err
	}
	defer release()
	existing, exists, err := pd.Lstat(name, e.Path)
	if err != nil {
		return wire.Entry{}, err
	}
	if exists && existing.Kind != wire.KindDir {
		if err := unix.Unlinkat(pd.FD(), name, 0); err != nil {
			return wire.Entry{}, fmt.Errorf("failed to replace %s with a directory: %w", Printable(e.Path), err)
		}
		exists = false
	}
	if !exists {
		if err := unix.Mkdirat(pd.FD(), name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return wire.Entry{}, fmt.Errorf("failed to create directory %s: %w", Printable(e.Path), err)
		}
		parentRel, _ := tree.SplitParent(e.Path)
		w.noteName(parentRel, name)
	}
	st, ok, err := pd.Lstat(name, e.Path)
	if err == nil && (!ok || st.Kind != wire.KindDir) {
		err = fmt.Errorf("%s changed while it was created", Printable(e.Path))
	}
	return st, err
}

// Symlink makes e.Path a symlink to e.Target, after checking that the
// target stays inside the workspace (unless the policy allows escapes).
func (w *Workspace) Symlink(e *wire.Entry) (wire.Entry, error) {
	if r := w.policy.checkTargetSyntax(e); r != nil {
		return wire.Entry{}, r
	}
	if !w.policy.AllowSymlinkEscape {
		if r := w.checkTarget(e.Path, e.Target); r != nil {
			return wire.Entry{}, r
		}
	}
	pd, name, release, err := w.prepare(e.Path)
	if err != nil {
		return wire.Entry{}, err
	}
	defer release()
	existing, exists, err := pd.Lstat(name, e.Path)
	if err != nil {
		return wire.Entry{}, err
	}
	if exists && existing.Kind == wire.KindDir {
		if err := unix.Unlinkat(pd.FD(), name, unix.AT_REMOVEDIR); err != nil {
			return wire.Entry{}, fmt.Errorf("cannot replace directory %s with a symlink: %w", Printable(e.Path), ErrNotEmpty)
		}
		w.invalidate()
	}
	tmp := tempName()
	if err := unix.Symlinkat(e.Target, pd.FD(), tmp); err != nil {
		return wire.Entry{}, fmt.Errorf("failed to create symlink %s: %w", Printable(e.Path), err)
	}
	if err := unix.Renameat(pd.FD(), tmp, pd.FD(), name); err != nil {
		_ = unix.Unlinkat(pd.FD(), tmp, 0)
		return wire.Entry{}, fmt.Errorf("failed to put symlink %s in place: %w", Printable(e.Path), err)
	}
	parentRel, _ := tree.SplitParent(e.Path)
	w.noteName(parentRel, name)
	st, _, err := pd.Lstat(name, e.Path)
	return st, err
}
