package openshift

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/paude-dev/paude/pkg/backend"
)

// CredentialKind names one kind of credential paude copies into sessions.
type CredentialKind string

// The credentials paude knows, in the order they are read.
const (
	// CredentialGcloud is ~/.config/gcloud (Vertex AI auth), a Secret.
	CredentialGcloud CredentialKind = "gcloud"
	// CredentialGitconfig is ~/.gitconfig, a Secret: it can hold tokens.
	CredentialGitconfig CredentialKind = "gitconfig"
	// CredentialClaude is ~/.claude plus ~/.claude.json, a Secret.
	CredentialClaude CredentialKind = "claude"
)

// CredentialKinds lists every kind in reading order.
var CredentialKinds = []CredentialKind{CredentialGcloud, CredentialGitconfig, CredentialClaude}

// excluded are per-kind top-level directories that hold caches, logs and
// history rather than credentials or settings; they would blow the Secret
// size limit and mean nothing inside a pod.
var excluded = map[CredentialKind][]string{
	CredentialGcloud: {"logs", "virtenv"},
	CredentialClaude: backend.ClaudeHistoryDirs,
}

// CredentialFile is one file of a credential: Path is where it lands
// below the credential's mount point, Data its content.
type CredentialFile struct {
	Path string
	Data []byte
}

// LocalCredential is a credential read from the user's home directory.
type LocalCredential struct {
	Kind CredentialKind
	// Source is the home-relative location, for messages ("~/.gitconfig").
	Source string
	Files  []CredentialFile
}

// ReadCredentials reads the credentials under home. Missing ones are
// skipped, each with one line in skipped; a credential over the Secret
// size limit (files and the list of their paths) is an error naming its
// largest files.
func ReadCredentials(home string) (found []LocalCredential, skipped []string, err error) {
	for _, kind := range CredentialKinds {
		cred, missing, err := readCredential(home, kind)
		if err != nil {
			return nil, nil, err
		}
		if missing != "" {
			skipped = append(skipped, missing)
			continue
		}
		if err := checkSize(cred); err != nil {
			return nil, nil, err
		}
		found = append(found, cred)
	}
	return found, skipped, nil
}

func readCredential(home string, kind CredentialKind) (LocalCredential, string, error) {
	cred := LocalCredential{Kind: kind}
	switch kind {
	case CredentialGcloud:
		cred.Source = "~/.config/gcloud"
		files, err := readTree(filepath.Join(home, ".config", "gcloud"), "", excluded[kind])
		if err != nil {
			return cred, "", err
		}
		cred.Files = files
	case CredentialGitconfig:
		cred.Source = "~/.gitconfig"
		data, err := readRegular(filepath.Join(home, ".gitconfig"))
		if err != nil {
			return cred, "", err
		}
		if data != nil {
			cred.Files = []CredentialFile{{Path: "gitconfig", Data: data}}
		}
	case CredentialClaude:
		cred.Source = "~/.claude and ~/.claude.json"
		files, err := readTree(filepath.Join(home, ".claude"), "claude", excluded[kind])
		if err != nil {
			return cred, "", err
		}
		data, err := readRegular(filepath.Join(home, ".claude.json"))
		if err != nil {
			return cred, "", err
		}
		if data != nil {
			files = append(files, CredentialFile{Path: "claude.json", Data: data})
		}
		cred.Files = files
	default:
		return cred, "", fmt.Errorf("unknown credential kind %q", kind)
	}
	if len(cred.Files) == 0 {
		return cred, fmt.Sprintf("Skipping %s credentials: %s not found", kind, cred.Source), nil
	}
	return cred, "", nil
}

// readRegular reads a file, following symlinks; a missing file is nil.
func readRegular(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	return data, nil
}

// readTree reads every regular file below root (symlinked files are
// followed, symlinked directories are not), skipping the excluded
// top-level directories. Paths are slash-separated and prefixed.
func readTree(root, prefix string, skip []string) ([]CredentialFile, error) {
	info, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", root, err)
	}
	if !info.IsDir() {
		return nil, nil
	}
	// A symlinked root (dotfiles managers link ~/.claude) is read where it
	// points: WalkDir alone would see only the link and read nothing.
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", root, err)
	}
	var files []CredentialFile
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", path, err)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if slices.Contains(skip, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		item := strings.TrimPrefix(prefix+"/"+rel, "/")
		if checkItemPath(item) != nil {
			// Kubernetes refuses item paths starting with ".." (its own
			// ..data links live there); such a file cannot be mounted.
			return nil
		}
		data, err := readRegular(path)
		if err != nil || data == nil {
			return err
		}
		files = append(files, CredentialFile{Path: item, Data: data})
		return nil
	})
	return files, err
}

// maxAnnotationsSize is what the API server allows for all of an
// object's annotations together, keys included.
const maxAnnotationsSize = apimachineryvalidation.TotalAnnotationSizeLimitB

// checkSize rejects a credential that cannot fit one Secret, naming the
// largest files so the user knows what to trim. The Secret holds the
// files and, in its AnnotationPaths annotation, the list of their paths;
// both count against the 1 MiB a Secret may hold, which keeps the whole
// object (the managed fields list every key again) well inside what the
// API server stores. The list alone must also stay within the API
// server's annotation limit.
func checkSize(cred LocalCredential) error {
	data := 0
	for _, f := range cred.Files {
		data += len(f.Data)
	}
	_, paths, err := pathItems(cred.Files)
	if err != nil {
		return err
	}
	record := len(AnnotationPaths) + len(paths)
	if total := data + record; total > corev1.MaxSecretSize {
		largest := slices.Clone(cred.Files)
		slices.SortFunc(largest, func(a, b CredentialFile) int {
			return cmp.Or(cmp.Compare(len(b.Data), len(a.Data)), strings.Compare(a.Path, b.Path))
		})
		var names []string
		for _, f := range largest[:min(5, len(largest))] {
			names = append(names, fmt.Sprintf("%s (%s)", displayPath(cred.Kind, f.Path), humanBytes(len(f.Data))))
		}
		return fmt.Errorf("%s credentials from %s total %s (%s of files, %s listing their paths), %s over the %s a Secret can hold: largest files: %s: remove what the agent does not need",
			cred.Kind, cred.Source, humanBytes(total), humanBytes(data), humanBytes(record),
			humanBytes(total-corev1.MaxSecretSize), humanBytes(corev1.MaxSecretSize), strings.Join(names, ", "))
	}
	if record > maxAnnotationsSize {
		return fmt.Errorf("%s credentials from %s are %d files, and the list of their paths takes %s, over the %s Kubernetes allows for a Secret's annotations: remove files the agent does not need",
			cred.Kind, cred.Source, len(cred.Files), humanBytes(record), humanBytes(maxAnnotationsSize))
	}
	return nil
}

// displayPath is where a credential file lives on the user's machine.
func displayPath(kind CredentialKind, p string) string {
	switch kind {
	case CredentialGcloud:
		return "~/.config/gcloud/" + p
	case CredentialGitconfig:
		return "~/.gitconfig"
	}
	if p == "claude.json" {
		return "~/.claude.json"
	}
	return "~/.claude/" + strings.TrimPrefix(p, "claude/")
}

// humanBytes formats a size as B, KiB or MiB with one decimal.
func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
