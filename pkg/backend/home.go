package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
)

// CredentialKind names one group of files from the user's home that a
// session gets.
type CredentialKind string

// The credentials paude gives a session, in the order they are read.
const (
	// CredentialGcloud is ~/.config/gcloud: Vertex AI's login.
	CredentialGcloud CredentialKind = "gcloud"
	// CredentialGitconfig is ~/.gitconfig: the user's git identity.
	CredentialGitconfig CredentialKind = "gitconfig"
	// CredentialClaude is ~/.claude and ~/.claude.json: Claude Code's
	// settings and login.
	CredentialClaude CredentialKind = "claude"
)

// CredentialKinds lists every kind in reading order.
var CredentialKinds = []CredentialKind{CredentialGcloud, CredentialGitconfig, CredentialClaude}

// The files of ~/.config/gcloud a session gets: the application-default
// credentials (what Vertex AI's client libraries read) and the active
// gcloud configuration (its project and account). Not the other
// accounts' refresh tokens (credentials.db, legacy_credentials/), the
// access token cache or the logs.
const (
	gcloudDir    = ".config/gcloud"
	gcloudADC    = gcloudDir + "/application_default_credentials.json"
	gcloudActive = gcloudDir + "/active_config"
)

// gcloudConfigName is what gcloud accepts as a configuration name; the
// name read from active_config becomes part of a path.
var gcloudConfigName = regexp.MustCompile(`^[a-z][-a-z0-9]{0,99}$`)

// The files of ~/.claude a session gets, an allowlist: the user's
// settings, memory, subagents and commands, and the login file Claude
// Code keeps on Linux. Everything else there (every project's
// transcripts, todos, file backups, shell snapshots, caches, logs,
// plugins) stays on the host: an agent working on one project must not
// read another's.
var (
	claudeFiles = []string{".claude/settings.json", ".claude/CLAUDE.md", claudeLogin}
	claudeDirs  = []string{".claude/agents", ".claude/commands"}
)

// claudeLogin is where Claude Code keeps a Claude account login on Linux.
const claudeLogin = ".claude/.credentials.json"

// HomeFile is one file from the user's home that a session gets.
type HomeFile struct {
	Kind CredentialKind
	// Rel is the slash-separated path below HOME, the same on the host
	// and in the session (".gitconfig", ".claude/settings.json").
	Rel string
	// Source is the host file to read: a regular file, symlinks resolved.
	Source string
	// Mode is the file's permission bits.
	Mode fs.FileMode
	// Size is the file's size in bytes.
	Size int64
}

// HomeFiles selects the files of the user's home that a session gets, the
// same for every backend, from allowlists: from ~/.config/gcloud the
// application-default credentials and the active configuration, the
// ~/.gitconfig, from ~/.claude settings.json, CLAUDE.md, .credentials.json
// and the agents/ and commands/ trees, and ~/.claude.json. A symlinked
// directory (dotfile managers link ~/.claude) is read where it points;
// below agents/ and commands/, symlinked files are read where they point
// and symlinked directories are not entered. Sockets, pipes and devices,
// and names starting with ".." (Kubernetes keeps its own files there) are
// left out. skipped has one line for each kind not found.
func HomeFiles(home string) (files []HomeFile, skipped []string, err error) {
	if home == "" {
		return nil, nil, nil
	}
	for _, kind := range CredentialKinds {
		var found []HomeFile
		var source string
		switch kind {
		case CredentialGcloud:
			source = "~/.config/gcloud"
			found, err = gcloudFiles(home)
		case CredentialGitconfig:
			source = "~/.gitconfig"
			found, err = homeFile(home, ".gitconfig", kind)
		case CredentialClaude:
			source = "~/.claude and ~/.claude.json"
			found, err = claudeHomeFiles(home)
		}
		if err != nil {
			return nil, nil, err
		}
		if len(found) == 0 {
			skipped = append(skipped, fmt.Sprintf("Skipping %s credentials: %s not found", kind, source))
		}
		files = append(files, found...)
	}
	return files, skipped, nil
}

// gcloudFiles are the application-default credentials and the active
// configuration ("default" when active_config is missing, as gcloud
// takes it).
func gcloudFiles(home string) ([]HomeFile, error) {
	var files []HomeFile
	for _, rel := range []string{gcloudADC, gcloudActive} {
		f, err := homeFile(home, rel, CredentialGcloud)
		if err != nil {
			return nil, err
		}
		files = append(files, f...)
	}
	active := "default"
	if n := len(files); n > 0 && files[n-1].Rel == gcloudActive {
		b, err := os.ReadFile(files[n-1].Source)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", files[n-1].Source, err)
		}
		active = strings.TrimSpace(string(b))
	}
	if !gcloudConfigName.MatchString(active) {
		// Not a name gcloud would have written: copy no configuration.
		return files, nil
	}
	f, err := homeFile(home, gcloudDir+"/configurations/config_"+active, CredentialGcloud)
	return append(files, f...), err
}

// claudeHomeFiles are Claude Code's files of the allowlist, and
// ~/.claude.json.
func claudeHomeFiles(home string) ([]HomeFile, error) {
	var files []HomeFile
	for _, rel := range claudeDirs {
		found, err := homeTree(home, rel, CredentialClaude, nil)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	for _, rel := range append(slices.Clone(claudeFiles), ".claude.json") {
		found, err := homeFile(home, rel, CredentialClaude)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	return files, nil
}

// homeFile returns rel below home when it is a regular file (after
// symlinks), nothing when it is missing or something else.
func homeFile(home, rel string, kind CredentialKind) ([]HomeFile, error) {
	p := filepath.Join(home, filepath.FromSlash(rel))
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		// Missing, or a parent is a file (~/.claude as a file).
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil
	}
	src, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", p, err)
	}
	return []HomeFile{{Kind: kind, Rel: rel, Source: src, Mode: fi.Mode().Perm(), Size: fi.Size()}}, nil
}

// homeTree returns the regular files below the directory rel of home,
// without the top-level directories in skip.
func homeTree(home, rel string, kind CredentialKind, skip []string) ([]HomeFile, error) {
	root := filepath.Join(home, filepath.FromSlash(rel))
	fi, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, nil
	}
	// WalkDir does not follow a symlinked root: resolve it first.
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", root, err)
	}
	var files []HomeFile
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", p, err)
		}
		sub, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		sub = filepath.ToSlash(sub)
		if d.IsDir() {
			if path.Dir(sub) == "." && slices.Contains(skip, sub) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(sub, "..") || strings.Contains(sub, "/..") {
			return nil
		}
		found, err := homeFile(root, sub, kind)
		if err != nil {
			return err
		}
		for i := range found {
			found[i].Rel = path.Join(rel, sub)
		}
		files = append(files, found...)
		return nil
	})
	return files, err
}

// SavedCredentialFiles stand for a kind of credential the user saved
// elsewhere than HOME (a cluster namespace's setup Secret): CheckProvider
// then counts the kind's login as present.
func SavedCredentialFiles(kind CredentialKind) []HomeFile {
	switch kind {
	case CredentialGcloud:
		return []HomeFile{{Kind: kind, Rel: gcloudADC}}
	case CredentialClaude:
		return []HomeFile{{Kind: kind, Rel: claudeLogin}}
	}
	return nil
}
