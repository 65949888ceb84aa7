package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
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

// ClaudeHistoryDirs are the top-level directories of ~/.claude that hold
// the history, caches and logs of every project the user ever ran Claude
// Code in (transcripts, backups of edited files, shell snapshots), not
// settings or the login. No session gets them: an agent working on one
// project must not read another project's transcripts.
var ClaudeHistoryDirs = []string{
	"projects", "todos", "statsig", "shell-snapshots", "ide", "local",
	"debug", "file-history", "session-env", "logs", "cache", "plugins",
}

// gcloudSkipDirs are top-level directories of ~/.config/gcloud with logs
// and a Python environment, not credentials.
var gcloudSkipDirs = []string{"logs", "virtenv"}

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
// same for every backend: ~/.config/gcloud (without logs), ~/.gitconfig,
// ~/.claude (without other projects' history, ClaudeHistoryDirs) and
// ~/.claude.json. A symlinked directory at the top (dotfile managers link
// ~/.claude) is read where it points; below it, symlinked files are read
// where they point and symlinked directories are not entered. Sockets,
// pipes and devices, and names starting with ".." (Kubernetes keeps its
// own files there) are left out. skipped has one line for each kind not
// found.
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
			found, err = homeTree(home, ".config/gcloud", kind, gcloudSkipDirs)
		case CredentialGitconfig:
			source = "~/.gitconfig"
			found, err = homeFile(home, ".gitconfig", kind)
		case CredentialClaude:
			source = "~/.claude and ~/.claude.json"
			if found, err = homeTree(home, ".claude", kind, ClaudeHistoryDirs); err == nil {
				var f []HomeFile
				f, err = homeFile(home, ".claude.json", kind)
				found = append(found, f...)
			}
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

// homeFile returns rel below home when it is a regular file (after
// symlinks), nothing when it is missing or something else.
func homeFile(home, rel string, kind CredentialKind) ([]HomeFile, error) {
	p := filepath.Join(home, filepath.FromSlash(rel))
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
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
	if errors.Is(err, fs.ErrNotExist) {
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
