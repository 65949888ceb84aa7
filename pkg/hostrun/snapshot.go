package hostrun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paude-dev/paude/pkg/hostpath"
)

// SnapshotVersion is the format of a saved Snapshot; Compare refuses to
// mix versions.
const SnapshotVersion = 1

// File is one tracked path in a snapshot.
type File struct {
	// Category is why the path matters.
	Category Category `json:"category"`
	// Digest identifies its content: "sha256:<hex>" of a file, of the
	// relevant part of package.json, or of a git directory's config and
	// hooks; "symlink:<target>"; "unreadable".
	Digest string `json:"digest"`
}

// Snapshot is the state of a workspace's host-run files at one moment. It
// marshals to JSON, so a backend can keep the one taken before a session
// until the session stops.
type Snapshot struct {
	// Version is SnapshotVersion.
	Version int `json:"version"`
	// Workspace is the absolute workspace path, symlinks resolved.
	Workspace string `json:"workspace"`
	// Files maps workspace-relative, slash-separated paths to what is
	// there. A git directory (.git anywhere) is one entry.
	Files map[string]File `json:"files"`
	// ReadOnly are existing workspace-relative paths (files or
	// directories, never symlinks) that a backend sharing the workspace
	// with the agent mounts read-only, because the user's next git command
	// runs or reads them without being asked: nested .git directories and
	// files (not the workspace's own .git, which gitboundary replaces), the
	// hooks directory when core.hooksPath points into the workspace (all
	// of .husky for husky), the configuration an installed pre-commit,
	// lefthook or lint-staged hook reads, and git config files and
	// programs that the host's git configuration names inside the
	// workspace. Everything else is only reported: the agent edits such
	// files as part of its work, and they run only when the user acts.
	ReadOnly []string `json:"readOnly,omitempty"`
}

// Take snapshots workspace: one walk that follows no symlink and reads
// only the files the categories name, plus what the host's git
// configuration points at (through gitboundary.RunHostGit, which runs no
// hook or fsmonitor).
func Take(ctx context.Context, workspace string) (*Snapshot, error) {
	ws, err := filepath.Abs(workspace)
	if err == nil {
		ws, err = filepath.EvalSymlinks(ws)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to resolve workspace %s: %w", workspace, err)
	}
	// The real name, as git reports the paths compared with it below.
	ws = hostpath.Real(ws)
	w := &walker{root: ws, files: map[string]File{}}
	if err := w.walk("", "", false); err != nil {
		return nil, err
	}
	facts := readGitFacts(ctx, ws)
	ro := w.nestedGit
	ro = append(ro, w.trackHooks(facts.hooksDir)...)
	ro = append(ro, w.trackConfigFiles(facts.files)...)
	ro = append(ro, hookToolConfigs(ws, facts.hooksDir)...)
	return &Snapshot{Version: SnapshotVersion, Workspace: ws, Files: w.files, ReadOnly: outermost(ro)}, nil
}

// walker collects tracked files below root.
type walker struct {
	root  string
	files map[string]File
	// nestedGit are the .git entries below the top (read-only candidates).
	nestedGit []string
}

// walk visits the directory rel. inherited is the category of an
// enclosing directory rule; onlyGit is set inside node_modules, where
// only .git entries count: the package.json files and Makefiles of
// dependencies run on install, and installing replaces them.
func (w *walker) walk(rel string, inherited Category, onlyGit bool) error {
	entries, err := readDir(filepath.Join(w.root, filepath.FromSlash(rel)))
	if err != nil {
		if rel == "" {
			return fmt.Errorf("failed to read workspace %s: %w", w.root, err)
		}
		w.files[rel] = File{Category: Unreadable, Digest: "unreadable"}
		return nil
	}
	if isRepositoryShape(entries) {
		// A bare repository, or a git directory under another name: git
		// takes the directory itself for a repository and reads its
		// config for every command run below it.
		key := rel
		if key == "" {
			key = "."
		}
		w.files[key] = File{Category: GitRepositories, Digest: gitDirDigest(filepath.Join(w.root, filepath.FromSlash(rel)))}
	}
	for _, e := range entries {
		name := e.Name()
		child := path.Join(rel, name)
		if name == ".git" {
			w.addGit(child, e)
			continue
		}
		cat := inherited
		if cat == "" && !onlyGit {
			cat = ruleFor(child, name, e.Type())
		}
		switch t := e.Type(); {
		case t&fs.ModeSymlink != 0:
			if cat != "" {
				w.files[child] = File{Category: cat, Digest: linkDigest(filepath.Join(w.root, child))}
			}
		case t.IsDir():
			if err := w.walk(child, cat, onlyGit || name == "node_modules"); err != nil {
				return err
			}
		case cat != "":
			w.files[child] = File{Category: cat, Digest: w.fileDigest(child, cat, inherited == "")}
		}
	}
	return nil
}

// isRepositoryShape reports whether a directory's entries make it a git
// directory to git's discovery: HEAD, with objects and refs or a
// commondir file (case ignored, as a folding file system answers either).
func isRepositoryShape(entries []fs.DirEntry) bool {
	have := map[string]bool{}
	for _, e := range entries {
		for _, part := range []string{"HEAD", "objects", "refs", "commondir"} {
			if strings.EqualFold(e.Name(), part) {
				have[part] = true
			}
		}
	}
	return have["HEAD"] && (have["objects"] && have["refs"] || have["commondir"])
}

// ruleFor is the category a path has by itself: a CI path at the top, a
// directory rule for a directory, a file rule for anything else. A
// symlink may stand for either, so both apply to it.
func ruleFor(rel, name string, t fs.FileMode) Category {
	if c, ok := topRules[rel]; ok {
		return c
	}
	link := t&fs.ModeSymlink != 0
	if c, ok := dirRules[name]; ok && (t.IsDir() || link) {
		return c
	}
	if c, ok := fileRules[name]; ok && (!t.IsDir() || link) {
		return c
	}
	return ""
}

// readDir lists a directory without sorting or stat calls. (A variable:
// tests run as root, who can read any directory, and make one fail.)
var readDir = func(dir string) ([]fs.DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return f.ReadDir(-1)
}

// fileDigest hashes a tracked file; a package.json matched by name counts
// only its command-running keys.
func (w *walker) fileDigest(rel string, cat Category, byName bool) string {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	if byName && cat == BuildScripts && path.Base(rel) == "package.json" {
		return packageJSONDigest(p)
	}
	return contentDigest(p)
}

// contentDigest is "sha256:<hex>" of a regular file, else what it is.
func contentDigest(p string) string {
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return "unreadable"
	case fi.Mode()&fs.ModeSymlink != 0:
		return linkDigest(p)
	case !fi.Mode().IsRegular():
		return "special:" + fi.Mode().Type().String()
	}
	f, err := os.Open(p)
	if err != nil {
		return "unreadable"
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable"
	}
	// The executable bit decides whether git runs a hook.
	return fmt.Sprintf("sha256:%s mode:%o", hex.EncodeToString(h.Sum(nil)), fi.Mode().Perm()&0o111)
}

// linkDigest records a symlink by its target.
func linkDigest(p string) string {
	target, err := os.Readlink(p)
	if err != nil {
		return "unreadable"
	}
	return "symlink:" + target
}

// addGit records a .git entry: a .git file (or symlink) by its content,
// a git directory by the files in it that make git run code.
func (w *walker) addGit(rel string, e fs.DirEntry) {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	digest := ""
	switch {
	case e.Type()&fs.ModeSymlink != 0:
		digest = linkDigest(p)
	case e.IsDir():
		digest = gitDirDigest(p)
	default:
		digest = contentDigest(p)
	}
	w.files[rel] = File{Category: GitRepositories, Digest: digest}
	if rel != ".git" && e.Type()&fs.ModeSymlink == 0 {
		w.nestedGit = append(w.nestedGit, rel)
	}
}

// gitDirDigest hashes the parts of a git directory that make git run
// code: config, config.worktree, commondir and gitdir files,
// info/attributes and hooks/, and the same in every module (modules/…)
// and linked worktree (worktrees/*) below it. Objects, refs, logs and the
// index change as the user works and run nothing.
func gitDirDigest(dir string) string {
	var parts []string
	var collect func(d, prefix string)
	collect = func(d, prefix string) {
		for _, f := range []string{"config", "config.worktree", "commondir", "gitdir", "info/attributes"} {
			if _, err := os.Lstat(filepath.Join(d, f)); err == nil {
				parts = append(parts, prefix+f+" "+contentDigest(filepath.Join(d, f)))
			}
		}
		_ = filepath.WalkDir(filepath.Join(d, "hooks"), func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				rel, _ := filepath.Rel(d, p)
				parts = append(parts, prefix+filepath.ToSlash(rel)+" "+contentDigest(p))
			}
			return nil
		})
		for _, sub := range []string{"modules", "worktrees"} {
			entries, _ := readDir(filepath.Join(d, sub))
			for _, e := range entries {
				if e.IsDir() && e.Type()&fs.ModeSymlink == 0 {
					collect(filepath.Join(d, sub, e.Name()), prefix+sub+"/"+e.Name()+"/")
				}
			}
		}
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrPermission) {
		return "unreadable"
	}
	collect(dir, "")
	sort.Strings(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// outermost sorts and dedupes paths and drops those inside another.
func outermost(paths []string) []string {
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		if n := len(out); n > 0 && (out[n-1] == p || strings.HasPrefix(p, out[n-1]+"/")) {
			continue
		}
		out = append(out, p)
	}
	return out
}
