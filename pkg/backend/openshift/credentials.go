package openshift

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/paude-dev/paude/pkg/backend"
)

// CredentialKind names one kind of credential paude copies into
// sessions: the kinds of backend.HomeFiles.
type CredentialKind = backend.CredentialKind

// The credentials paude knows, in the order they are read.
const (
	// CredentialGcloud is ~/.config/gcloud (Vertex AI auth), a Secret.
	CredentialGcloud = backend.CredentialGcloud
	// CredentialGitconfig is ~/.gitconfig, a Secret: it can hold tokens.
	CredentialGitconfig = backend.CredentialGitconfig
	// CredentialClaude is ~/.claude plus ~/.claude.json, a Secret.
	CredentialClaude = backend.CredentialClaude
)

// CredentialKinds lists every kind in reading order.
var CredentialKinds = backend.CredentialKinds

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

// credentialSources name each kind's files in messages.
var credentialSources = map[CredentialKind]string{
	CredentialGcloud:    "~/.config/gcloud",
	CredentialGitconfig: "~/.gitconfig",
	CredentialClaude:    "~/.claude and ~/.claude.json",
}

// ReadCredentials reads the files backend.HomeFiles selects from home,
// grouped into one credential per kind. Missing kinds are skipped, each
// with one line in skipped; a credential over the Secret size limit
// (files and the list of their paths) is an error naming its largest
// files.
func ReadCredentials(home string) (found []LocalCredential, skipped []string, err error) {
	files, skipped, err := backend.HomeFiles(home)
	if err != nil {
		return nil, nil, err
	}
	byKind := map[CredentialKind]*LocalCredential{}
	for _, f := range files {
		data, err := os.ReadFile(f.Source)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to read %s: %w", f.Source, err)
		}
		cred := byKind[f.Kind]
		if cred == nil {
			cred = &LocalCredential{Kind: f.Kind, Source: credentialSources[f.Kind]}
			byKind[f.Kind] = cred
		}
		cred.Files = append(cred.Files, CredentialFile{Path: secretPath(f), Data: data})
	}
	for _, kind := range CredentialKinds {
		cred := byKind[kind]
		if cred == nil {
			continue
		}
		if err := checkSize(*cred); err != nil {
			return nil, nil, err
		}
		found = append(found, *cred)
	}
	return found, skipped, nil
}

// secretPath is where a home file lands below its credential's mount
// point: gcloud files below ~/.config/gcloud, the gitconfig as
// "gitconfig", Claude's files below "claude/" and "claude.json" (the init
// container copies them into the writable config directory).
func secretPath(f backend.HomeFile) string {
	switch f.Kind {
	case CredentialGcloud:
		return strings.TrimPrefix(f.Rel, ".config/gcloud/")
	case CredentialGitconfig:
		return "gitconfig"
	}
	if f.Rel == ".claude.json" {
		return "claude.json"
	}
	return "claude/" + strings.TrimPrefix(f.Rel, ".claude/")
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
