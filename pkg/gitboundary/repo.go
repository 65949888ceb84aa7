package gitboundary

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/paude-dev/paude/pkg/hostpath"

	"github.com/paude-dev/paude/pkg/remote"
)

// ErrNoRepository means the workspace is not the top level of a git
// worktree: it has no repository of its own, or it is a subdirectory of
// one. Such a session gets no git boundary; the agent has no repository,
// and a .git it creates shows up in the host-run report.
var ErrNoRepository = errors.New("the workspace is not the top level of a git repository")

// Repo is the host repository whose worktree is a workspace.
type Repo struct {
	// Workspace is the worktree's top level, absolute, symlinks resolved.
	Workspace string
	// GitDir is the worktree's absolute git directory: <Workspace>/.git,
	// or for a linked worktree or a submodule the directory its .git file
	// names.
	GitDir string
	// CommonDir holds the objects and refs (the main repository's .git
	// for a linked worktree; GitDir otherwise).
	CommonDir string
	// GitFile is set when <Workspace>/.git is a file (a linked worktree or
	// a submodule's checkout) rather than a directory.
	GitFile bool
	// ObjectFormat is the hash the repository uses: "sha1" or "sha256".
	ObjectFormat string
	// Shallow lists the shallow boundary commits of a shallow clone.
	Shallow []string
	// Submodules are the initialized submodules checked out below the
	// workspace whose git directory lives under GitDir/modules, the way
	// `git submodule` keeps them since git 1.7.8, in path order.
	Submodules []Submodule
}

// Submodule is one initialized submodule of a Repo.
type Submodule struct {
	// Path is the submodule's directory relative to the superproject's
	// workspace, with forward slashes.
	Path string
	// ModuleDir is its git directory relative to the superproject's
	// GitDir ("modules/<name>"), forward slashes.
	ModuleDir string
	// Repo is the submodule's own repository.
	Repo *Repo
}

// OpenRepo finds the repository whose worktree is workspace. It returns
// an error wrapping ErrNoRepository when there is none (or workspace is
// not its top level), and refuses a symlinked .git, whose target paude
// cannot keep the agent away from. The workspace and git's top level
// are compared by their real names (hostpath.Real): on macOS git reports
// the stored spelling, and a workspace typed in another case must not
// pass for a directory below the top level, which would leave its .git
// without a boundary.
func OpenRepo(ctx context.Context, workspace string) (*Repo, error) {
	ws, err := filepath.Abs(workspace)
	if err == nil {
		ws, err = filepath.EvalSymlinks(ws)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to resolve workspace %s: %w", workspace, err)
	}
	ws = hostpath.Real(ws)
	dotGit := filepath.Join(ws, ".git")
	fi, err := os.Lstat(dotGit)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s has no .git: %w", ws, ErrNoRepository)
	case err != nil:
		return nil, fmt.Errorf("failed to read %s: %w", dotGit, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s is a symlink: paude cannot protect a git directory it does not see; replace the link with the repository or a .git file", dotGit)
	}
	out, err := RunHostGit(ctx, ws, "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir",
		"--show-object-format", "--is-bare-repository")
	if err != nil {
		return nil, fmt.Errorf("failed to read the repository in %s: %w: check it with git status", ws, err)
	}
	f := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(f) != 5 {
		return nil, fmt.Errorf("failed to read the repository in %s: unexpected git rev-parse output %q", ws, out)
	}
	if f[4] == "true" {
		return nil, fmt.Errorf("%s is a bare repository: %w", ws, ErrNoRepository)
	}
	if top := hostpath.Real(f[0]); top != ws {
		return nil, fmt.Errorf("%s is inside the repository at %s: %w; start paude at the top level", ws, Display(f[0]), ErrNoRepository)
	}
	common := f[2]
	if !filepath.IsAbs(common) {
		common = filepath.Join(ws, common)
	}
	gitDir, err := filepath.EvalSymlinks(f[1])
	if err == nil {
		common, err = filepath.EvalSymlinks(common)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to resolve the git directory of %s: %w", ws, err)
	}
	r := &Repo{Workspace: ws, GitDir: gitDir, CommonDir: common, GitFile: !fi.IsDir(), ObjectFormat: f[3]}
	if r.Shallow, err = readShallow(r.CommonDir); err != nil {
		return nil, err
	}
	if r.Submodules, err = submodules(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// readShallow reads the shallow boundary of a shallow clone.
func readShallow(commonDir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(commonDir, "shallow"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the shallow boundary: %w", err)
	}
	var oids []string
	for l := range strings.SplitSeq(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if !isObjectID(l) {
				return nil, fmt.Errorf("%s holds %q, not an object id: repair the shallow clone with git fetch --unshallow", filepath.Join(commonDir, "shallow"), l)
			}
			oids = append(oids, l)
		}
	}
	return oids, nil
}

// submodules finds r's initialized submodules: gitlinks in the index whose
// checkout has a .git file naming a directory under r.GitDir/modules.
// Other gitlinks (not initialized, or an old-style checkout with its own
// .git directory) have no repository for paude to seed; the host-run
// report covers their .git.
func submodules(ctx context.Context, r *Repo) ([]Submodule, error) {
	out, err := RunHostGit(ctx, r.Workspace, "ls-files", "--stage", "-z")
	if err != nil {
		return nil, fmt.Errorf("failed to list submodules in %s: %w", r.Workspace, err)
	}
	var subs []Submodule
	for entry := range bytes.SplitSeq(out, []byte{0}) {
		// "<mode> <oid> <stage>\t<path>"
		meta, p, ok := strings.Cut(string(entry), "\t")
		if !ok || !strings.HasPrefix(meta, "160000 ") {
			continue
		}
		dir := filepath.Join(r.Workspace, filepath.FromSlash(p))
		if fi, err := os.Lstat(filepath.Join(dir, ".git")); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		sub, err := OpenRepo(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("failed to open submodule %s: %w", Display(p), err)
		}
		rel, err := filepath.Rel(r.GitDir, sub.GitDir)
		if err != nil || !filepath.IsLocal(rel) || !strings.HasPrefix(filepath.ToSlash(rel), "modules/") {
			continue
		}
		subs = append(subs, Submodule{Path: p, ModuleDir: filepath.ToSlash(rel), Repo: sub})
	}
	return subs, nil
}

// isObjectID reports whether s is a full hex object id (SHA-1 or SHA-256).
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// SessionRepo is where a session's own repository lives, seen from inside
// the session.
type SessionRepo struct {
	// Exec runs commands in the session.
	Exec remote.Executor
	// Workspace is the worktree's path in the session.
	Workspace string
	// GitDir is the git directory's path in the session; "" means
	// <Workspace>/.git.
	GitDir string
}

// gitDir is the session's git directory.
func (s SessionRepo) gitDir() string {
	if s.GitDir == "" {
		return path.Join(s.Workspace, ".git")
	}
	return s.GitDir
}

// submodule is the session side of r's submodule sub.
func (s SessionRepo) submodule(sub Submodule) SessionRepo {
	return SessionRepo{Exec: s.Exec, Workspace: path.Join(s.Workspace, sub.Path), GitDir: path.Join(s.gitDir(), sub.ModuleDir)}
}
