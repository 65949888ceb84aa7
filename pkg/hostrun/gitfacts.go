package hostrun

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paude-dev/paude/pkg/gitboundary"
)

// gitFacts is what the host's git configuration for the workspace points
// at.
type gitFacts struct {
	// hooksDir is the directory git runs hooks from (core.hooksPath, or
	// the repository's hooks), absolute; "" without a repository.
	hooksDir string
	// files are the config files git reads and the programs its config
	// names by path (core.fsmonitor, filter and diff drivers, aliases,
	// helpers), absolute, wherever they are.
	files []string
}

// gitFactsTimeout bounds the git commands of a snapshot: a planted config
// could include a FIFO, and reading it would wait forever.
const gitFactsTimeout = 30 * time.Second

// readGitFacts asks the host's git about the repository the workspace is
// in, if any. The configuration comes with its scope, so paude's own
// command-line hardening (core.hooksPath=/dev/null) is told apart from the
// user's settings.
func readGitFacts(ctx context.Context, ws string) gitFacts {
	var facts gitFacts
	ctx, cancel := context.WithTimeout(ctx, gitFactsTimeout)
	defer cancel()
	out, err := gitboundary.RunHostGit(ctx, ws, "rev-parse", "--show-toplevel", "--git-common-dir")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || len(lines) != 2 {
		// No repository (or no git): git runs nothing here.
		return facts
	}
	top, common := lines[0], lines[1]
	if !filepath.IsAbs(common) {
		common = filepath.Join(ws, common)
	}
	facts.hooksDir = filepath.Join(common, "hooks")
	out, err = gitboundary.RunHostGit(ctx, ws, "config", "--list", "--show-origin", "--show-scope", "-z")
	if err != nil {
		// A config git cannot read runs nothing either.
		return facts
	}
	home, _ := os.UserHomeDir()
	fields := bytes.Split(out, []byte{0})
	for i := 0; i+2 < len(fields); i += 3 {
		scope, origin := string(fields[i]), string(fields[i+1])
		if scope == "command" {
			continue
		}
		key, value, _ := strings.Cut(string(fields[i+2]), "\n")
		if p, ok := strings.CutPrefix(origin, "file:"); ok {
			facts.files = append(facts.files, resolve(p, ws, home))
		}
		if key == "core.hookspath" && value != "" {
			facts.hooksDir = resolve(value, top, home)
		}
		if p := commandPath(value); p != "" {
			facts.files = append(facts.files, resolve(p, top, home))
		}
	}
	return facts
}

// commandPath is the program a config value names by path ("./x",
// "tools/x", "/abs/x", "~/x", "!tools/x --flag"), or "".
func commandPath(value string) string {
	v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(value), "!"))
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return ""
	}
	p := strings.Trim(fields[0], `"'`)
	if !strings.Contains(p, "/") || strings.Contains(p, "://") {
		return ""
	}
	return p
}

// resolve makes p absolute: "~/" is home, a relative path is below base.
func resolve(p, base, home string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok && home != "" {
		return filepath.Join(home, rest)
	}
	if !filepath.IsAbs(p) {
		return filepath.Join(base, p)
	}
	return filepath.Clean(p)
}

// within returns p relative to root (slash-separated) when p is inside it.
func within(root, p string) (string, bool) {
	rel, err := filepath.Rel(root, p)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// inOwnGit reports whether rel is the workspace's own .git or inside it:
// the .git entry already covers it, and gitboundary keeps the agent out.
func inOwnGit(rel string) bool { return rel == ".git" || strings.HasPrefix(rel, ".git/") }

// realPath reports whether p is reached without a symlink: only then is a
// read-only mount at p what the host's git reads.
func realPath(p string) bool {
	r, err := filepath.EvalSymlinks(p)
	return err == nil && r == p
}

// trackHooks records the files of a hooks directory inside the workspace
// as git hooks and returns the path to mount read-only: the directory, or
// all of .husky when it is inside it (husky's hooks call the scripts
// there).
func (w *walker) trackHooks(hooksDir string) []string {
	rel, ok := within(w.root, hooksDir)
	if hooksDir == "" || !ok || inOwnGit(rel) {
		return nil
	}
	_ = filepath.WalkDir(hooksDir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if r, ok := within(w.root, p); ok {
				w.files[r] = File{Category: GitHooks, Digest: contentDigest(p)}
			}
		}
		return nil
	})
	if top, _, _ := strings.Cut(rel, "/"); top == ".husky" {
		rel = top
	}
	if fi, err := os.Lstat(filepath.Join(w.root, rel)); err != nil || !fi.IsDir() || !realPath(filepath.Join(w.root, rel)) {
		return nil
	}
	return []string{rel}
}

// trackConfigFiles records the files git's configuration reads or runs
// from inside the workspace and returns those to mount read-only.
func (w *walker) trackConfigFiles(files []string) []string {
	var ro []string
	for _, p := range files {
		rel, ok := within(w.root, p)
		if !ok || inOwnGit(rel) {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil || fi.IsDir() {
			continue
		}
		w.files[rel] = File{Category: GitConfig, Digest: contentDigest(p)}
		if fi.Mode().IsRegular() && realPath(p) {
			ro = append(ro, rel)
		}
	}
	return ro
}

// hookToolConfigs returns the configs at the top of the workspace that an
// installed hook manager reads on every run (hookTools), when its hook is
// in hooksDir (or, for husky, in .husky).
func hookToolConfigs(ws, hooksDir string) []string {
	if hooksDir == "" {
		return nil
	}
	var hooks bytes.Buffer
	read := func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil && fi.Size() < 1<<20 {
				b, _ := os.ReadFile(p)
				hooks.Write(b)
			}
		}
		return nil
	}
	_ = filepath.WalkDir(hooksDir, read)
	if rel, ok := within(ws, hooksDir); ok && strings.HasPrefix(rel, ".husky") {
		_ = filepath.WalkDir(filepath.Join(ws, ".husky"), read)
	}
	var ro []string
	for _, tool := range hookTools {
		installed := false
		for _, m := range tool.markers {
			installed = installed || bytes.Contains(hooks.Bytes(), []byte(m))
		}
		if !installed {
			continue
		}
		for _, c := range tool.configs {
			if fi, err := os.Lstat(filepath.Join(ws, c)); err == nil && fi.Mode().Type()&fs.ModeSymlink == 0 {
				ro = append(ro, c)
			}
		}
	}
	return ro
}
