package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// formatVersion is the version of a trust record and of its digest's
// framing; records of another version are unreadable.
const formatVersion = 1

// ignoreFiles are the build context ignore files a container build
// honours, in its order of preference.
var ignoreFiles = []string{".containerignore", ".dockerignore"}

// fingerprint is what trust is granted to: every input file's state and
// the summary shown, with one digest over all of it.
type fingerprint struct {
	// Config is the configuration file, relative to the workspace.
	Config string
	// Files maps each input (relative to the workspace when inside it,
	// else absolute) to its type, mode and content hash.
	Files map[string]string
	// Summary is the summary shown, with the Dockerfile text filled in.
	Summary Summary
	// Digest is "sha256:" and the hex SHA-256 of the above and the
	// workspace path.
	Digest string
}

// digestOf hashes a fingerprint's parts. JSON encodes maps in key order,
// so the encoding, and so the digest, is canonical.
func digestOf(workspace, config string, files map[string]string, s Summary) (string, error) {
	data, err := json.Marshal(struct {
		Version   int               `json:"version"`
		Workspace string            `json:"workspace"`
		Config    string            `json:"config"`
		Files     map[string]string `json:"files"`
		Summary   Summary           `json:"summary"`
	}{formatVersion, workspace, config, files, s})
	if err != nil {
		return "", fmt.Errorf("failed to encode the trust fingerprint: %w", err)
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// takeFingerprint reads every input of in: the configuration file, the
// Dockerfile and each of in.Files (a directory stands for each entry a
// build would send from it). Inputs are named relative to root, the
// workspace as the caller spells it; workspace is its canonical path.
func takeFingerprint(workspace, root string, in Inputs) (*fingerprint, error) {
	fp := &fingerprint{Files: map[string]string{}, Summary: in.Summary}
	fp.Config = keyFor(root, in.ConfigPath)
	info, err := os.Stat(in.ConfigPath)
	if err != nil || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("failed to read configuration file %s: %w", in.ConfigPath, orNotRegular(err))
	}
	if err := fp.addTop(root, in.ConfigPath); err != nil {
		return nil, err
	}
	if b := in.Summary.Build; b != nil {
		build := *b
		text, cut, err := readShown(b.Dockerfile)
		if err != nil {
			return nil, err
		}
		build.Text, build.TextCut = text, cut
		fp.Summary.Build = &build
		if err := fp.addTop(root, b.Dockerfile); err != nil {
			return nil, err
		}
	}
	for _, name := range in.Files {
		if err := fp.addTop(root, name); err != nil {
			return nil, err
		}
	}
	fp.Digest, err = digestOf(workspace, fp.Config, fp.Files, fp.Summary)
	if err != nil {
		return nil, err
	}
	return fp, nil
}

func orNotRegular(err error) error {
	if err != nil {
		return err
	}
	return errors.New("not a regular file")
}

// readShown reads the start of the Dockerfile for the summary.
func readShown(name string) (string, bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", false, fmt.Errorf("failed to read the Dockerfile: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxShownText+1))
	if err != nil {
		return "", false, fmt.Errorf("failed to read the Dockerfile: %w", err)
	}
	if len(data) > maxShownText {
		return string(data[:maxShownText]), true, nil
	}
	return string(data), false, nil
}

// addTop records one input the caller named. A file is read through a
// symbolic link, as a build reads its Dockerfile; a missing file is
// recorded as missing, so that its appearance later is a change.
func (fp *fingerprint) addTop(root, name string) error {
	key := keyFor(root, name)
	info, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fp.Files[key] = "missing"
		return nil
	case err != nil:
		return fmt.Errorf("failed to read build input %s: %w", name, err)
	case info.IsDir():
		return fp.addTree(key, name)
	}
	return fp.addEntry(key, name, info)
}

// addTree records every entry of a build context directory that a build
// would send: the directory's .containerignore or .dockerignore is
// honoured, so that files a build never sees (.git, say) change nothing.
// Symbolic links inside are recorded, not followed.
func (fp *fingerprint) addTree(key, root string) error {
	matcher, err := contextIgnore(root)
	if err != nil {
		return err
	}
	return filepath.WalkDir(root, func(name string, entry fs.DirEntry, walkErr error) error {
		if walkErr != nil {
			return fmt.Errorf("failed to read build context %s: %w", root, walkErr)
		}
		rel, err := filepath.Rel(root, name)
		if err != nil {
			return fmt.Errorf("failed to read build context %s: %w", root, err)
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if matcher != nil {
			match, err := matcher.MatchesOrParentMatches(rel)
			if err != nil {
				return fmt.Errorf("failed to apply the ignore file of build context %s: %w", root, err)
			}
			if match {
				// A directory may be skipped whole only when no "!pattern"
				// could bring back something inside it.
				if entry.IsDir() && !matcher.Exclusions() {
					return fs.SkipDir
				}
				return nil
			}
		}
		info, err := entry.Info()
		if err != nil {
			return fmt.Errorf("failed to read build context entry %s: %w", name, err)
		}
		if key != "." {
			rel = key + "/" + rel
		}
		return fp.addEntry(rel, name, info)
	})
}

// addEntry records one file system entry: its type, permission bits and
// content hash or link target.
func (fp *fingerprint) addEntry(key, name string, info fs.FileInfo) error {
	mode := info.Mode()
	perm := fmt.Sprintf("%04o", mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
	switch {
	case mode.IsDir():
		fp.Files[key] = "dir " + perm
	case mode.IsRegular():
		sum, err := fileHash(name)
		if err != nil {
			return err
		}
		fp.Files[key] = "file " + perm + " " + sum
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(name)
		if err != nil {
			return fmt.Errorf("failed to read build input %s: %w", name, err)
		}
		fp.Files[key] = "symlink " + target
	default:
		fp.Files[key] = "special " + mode.Type().String()
	}
	return nil
}

// fileHash returns "sha256:" and the hex SHA-256 of a file's content.
func fileHash(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("failed to read build input %s: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("failed to read build input %s: %w", name, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// contextIgnore returns the matcher of a build context's ignore file, nil
// when it has none.
func contextIgnore(root string) (*patternmatcher.PatternMatcher, error) {
	for _, name := range ignoreFiles {
		f, err := os.Open(filepath.Join(root, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read %s of build context %s: %w", name, root, err)
		}
		defer f.Close()
		patterns, err := ignorefile.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s of build context %s: %w", name, root, err)
		}
		m, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, fmt.Errorf("invalid pattern in %s of build context %s: %w: fix the pattern", name, root, err)
		}
		return m, nil
	}
	return nil, nil
}

// keyFor names an input in a fingerprint: relative to the workspace when
// inside it, else absolute.
func keyFor(workspace, name string) string {
	if rel, ok := relativeTo(workspace, name); ok {
		return rel
	}
	return filepath.ToSlash(name)
}

// within reports whether p is root or inside it.
func within(root, p string) bool {
	_, ok := relativeTo(root, p)
	return ok
}
