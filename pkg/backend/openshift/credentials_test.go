package openshift

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/paude-dev/paude/pkg/backend"
)

func credByKind(creds []LocalCredential, kind CredentialKind) *LocalCredential {
	for i := range creds {
		if creds[i].Kind == kind {
			return &creds[i]
		}
	}
	return nil
}

func filePaths(c *LocalCredential) []string {
	var paths []string
	for _, f := range c.Files {
		paths = append(paths, f.Path)
	}
	slices.Sort(paths)
	return paths
}

func TestReadCredentials(t *testing.T) {
	home := t.TempDir()
	writeFile(t, home, ".config/gcloud/application_default_credentials.json", []byte(`{"type":"authorized_user"}`))
	writeFile(t, home, ".config/gcloud/configurations/config_default", []byte("[core]\nproject = p\n"))
	writeFile(t, home, ".config/gcloud/legacy_credentials/me@example.com/adc.json", []byte("{}"))
	writeFile(t, home, ".config/gcloud/logs/2026.03.01/big.log", bytes.Repeat([]byte("x"), 2<<20))
	writeFile(t, home, ".gitconfig", []byte("[user]\n\tname = Me\n"))
	writeFile(t, home, ".claude/settings.json", []byte(`{"theme":"dark"}`))
	writeFile(t, home, ".claude/agents/reviewer.md", []byte("# reviewer"))
	writeFile(t, home, ".claude/projects/-home-me/history.jsonl", bytes.Repeat([]byte("y"), 2<<20))
	writeFile(t, home, ".claude/local/node_modules/x.js", []byte("x"))
	writeFile(t, home, ".claude.json", []byte(`{"numStartups":3}`))
	// A symlinked file is read through; a symlinked directory is not.
	writeFile(t, home, "elsewhere/token", []byte("tok"))
	if err := os.Symlink(filepath.Join(home, "elsewhere/token"), filepath.Join(home, ".claude/agents/linked.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(home, "elsewhere"), filepath.Join(home, ".claude/agents/linked_dir")); err != nil {
		t.Fatal(err)
	}

	found, skipped, err := ReadCredentials(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 0 {
		t.Errorf("skipped = %v, want none", skipped)
	}
	want := map[CredentialKind][]string{
		// Only the ADC file and the active configuration of gcloud, not
		// other accounts' tokens.
		CredentialGcloud:    {"application_default_credentials.json", "configurations/config_default"},
		CredentialGitconfig: {"gitconfig"},
		// Claude's allowlist, not other projects' history.
		CredentialClaude: {"claude.json", "claude/agents/linked.md", "claude/agents/reviewer.md", "claude/settings.json"},
	}
	for kind, paths := range want {
		c := credByKind(found, kind)
		if c == nil {
			t.Fatalf("%s not found", kind)
		}
		if got := filePaths(c); !reflect.DeepEqual(got, paths) {
			t.Errorf("%s files = %v, want %v", kind, got, paths)
		}
	}
	if g := credByKind(found, CredentialClaude); string(g.Files[slices.IndexFunc(g.Files, func(f CredentialFile) bool { return f.Path == "claude/agents/linked.md" })].Data) != "tok" {
		t.Errorf("symlinked file content not read")
	}
}

func TestReadCredentialsMissing(t *testing.T) {
	home := t.TempDir()
	writeFile(t, home, ".gitconfig", []byte("[user]\n"))
	// An empty gcloud directory counts as missing.
	if err := os.MkdirAll(filepath.Join(home, ".config/gcloud"), 0o755); err != nil {
		t.Fatal(err)
	}
	found, skipped, err := ReadCredentials(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Kind != CredentialGitconfig {
		t.Errorf("found = %+v, want only gitconfig", found)
	}
	wantSkipped := []string{
		"Skipping gcloud credentials: ~/.config/gcloud not found",
		"Skipping claude credentials: ~/.claude and ~/.claude.json not found",
	}
	if !reflect.DeepEqual(skipped, wantSkipped) {
		t.Errorf("skipped = %q, want %q", skipped, wantSkipped)
	}
}

func TestReadCredentialsOversize(t *testing.T) {
	home := t.TempDir()
	writeFile(t, home, ".claude/agents/big.md", bytes.Repeat([]byte("a"), 700<<10))
	writeFile(t, home, ".claude/commands/big.md", bytes.Repeat([]byte("b"), 500<<10))
	writeFile(t, home, ".claude/settings.json", []byte("c"))
	_, _, err := ReadCredentials(home)
	if err == nil {
		t.Fatal("want an error for credentials over the Secret size limit")
	}
	msg := err.Error()
	if !containsAll(msg, "claude credentials from ~/.claude and ~/.claude.json total 1.2 MiB (1.2 MiB of files, ", " listing their paths), ",
		" over the 1.0 MiB a Secret can hold",
		"(700.0 KiB), ", "(500.0 KiB), ", "(1 B)",
		"remove what the agent does not need") {
		t.Errorf("error = %q", msg)
	}
}

// pathsRecordSize is what a credential's paths annotation (key and
// value) takes in its Secret, measured on the object CredentialObject
// builds.
func pathsRecordSize(t *testing.T, cred LocalCredential) int {
	t.Helper()
	obj, _, err := CredentialObject(cred, "team", "paude-x", nil)
	if err != nil {
		t.Fatal(err)
	}
	return len(AnnotationPaths) + len(obj.GetAnnotations()[AnnotationPaths])
}

func TestCheckSizeCountsThePathsAnnotation(t *testing.T) {
	gitconfig := func(size int) LocalCredential {
		return LocalCredential{Kind: CredentialGitconfig, Source: "~/.gitconfig", Files: []CredentialFile{{Path: "gitconfig", Data: bytes.Repeat([]byte("g"), size)}}}
	}
	record := pathsRecordSize(t, gitconfig(1))
	var many []CredentialFile
	for i := range 2000 {
		many = append(many, CredentialFile{Path: fmt.Sprintf("agents/%s/%04d.md", strings.Repeat("n", 100), i), Data: []byte("x")})
	}
	tests := []struct {
		name    string
		cred    LocalCredential
		wantErr []string
	}{
		{"files and paths exactly at the limit", gitconfig(corev1.MaxSecretSize - record), nil},
		// The file alone fits a Secret; with the list of its path it does not.
		{"files fit, files and paths do not", gitconfig(corev1.MaxSecretSize - record + 1), []string{
			"gitconfig credentials from ~/.gitconfig total 1.0 MiB (1023.9 KiB of files, " + humanBytes(record) + " listing their paths), 1 B over the 1.0 MiB a Secret can hold",
			"largest files: ~/.gitconfig (1023.9 KiB)", "remove what the agent does not need",
		}},
		{"paths over the annotation limit", LocalCredential{Kind: CredentialClaude, Source: "~/.claude and ~/.claude.json", Files: many}, []string{
			"claude credentials from ~/.claude and ~/.claude.json are 2000 files, and the list of their paths takes ",
			"over the 256.0 KiB Kubernetes allows for a Secret's annotations: remove files the agent does not need",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := 0
			for _, f := range tt.cred.Files {
				data += len(f.Data)
			}
			if data > corev1.MaxSecretSize {
				t.Fatalf("bad case: the files alone (%d bytes) are over the limit", data)
			}
			err := checkSize(tt.cred)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("checkSize = %v, want it to fit", err)
				}
				return
			}
			if err == nil || !containsAll(err.Error(), tt.wantErr...) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestKeysFor(t *testing.T) {
	files := []CredentialFile{
		{Path: "legacy_credentials/me@example.com/adc.json"},
		{Path: "a/b"}, {Path: "a.b"}, {Path: "..hidden"}, {Path: "x y/z"},
		{Path: strings.Repeat("long/", 60) + "f"},
	}
	keys := keysFor(files)
	seen := map[string]bool{}
	for i, k := range keys {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			t.Errorf("key %q for %q invalid: %v", k, files[i].Path, errs)
		}
		if seen[k] {
			t.Errorf("duplicate key %q", k)
		}
		seen[k] = true
	}
	if keys[0] != "legacy_credentials.me_example.com.adc.json" {
		t.Errorf("key = %q", keys[0])
	}
}

func TestCredentialObjects(t *testing.T) {
	tests := []struct {
		cred LocalCredential
		want map[string]string // Secret key → content
	}{
		{LocalCredential{Kind: CredentialGcloud, Files: []CredentialFile{
			{Path: "legacy_credentials/me@example.com/adc.json", Data: []byte("{}")},
			{Path: "active_config", Data: []byte("default")},
		}}, map[string]string{"legacy_credentials.me_example.com.adc.json": "{}", "active_config": "default"}},
		// A gitconfig can carry tokens: it is a Secret like the others,
		// never a ConfigMap (readable with the namespace's view role).
		{LocalCredential{Kind: CredentialGitconfig, Files: []CredentialFile{
			{Path: "gitconfig", Data: []byte("[http]\n\textraHeader = Authorization: Bearer t0k3n\n")},
		}}, map[string]string{"gitconfig": "[http]\n\textraHeader = Authorization: Bearer t0k3n\n"}},
		{LocalCredential{Kind: CredentialClaude, Files: []CredentialFile{
			{Path: "claude.json", Data: []byte("{}")}, {Path: "claude/settings.json", Data: []byte{0xff, 0xfe}},
		}}, map[string]string{"claude.json": "{}", "claude.settings.json": "\xff\xfe"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.cred.Kind), func(t *testing.T) {
			name := SessionCredentialName("x", tt.cred.Kind)
			obj, mount, err := CredentialObject(tt.cred, "team", name, backend.SessionLabels("x", backend.RoleCredential))
			if err != nil {
				t.Fatal(err)
			}
			secret, ok := obj.(*corev1.Secret)
			if !ok {
				t.Fatalf("%s object is %T, want a Secret", tt.cred.Kind, obj)
			}
			if secret.Type != corev1.SecretTypeOpaque || secret.Kind != "Secret" || secret.Name != name || secret.Namespace != "team" {
				t.Errorf("secret = %s %s/%s of type %s", secret.Kind, secret.Namespace, secret.Name, secret.Type)
			}
			if secret.Labels[backend.LabelCredential] != string(tt.cred.Kind) || secret.Labels[backend.LabelSessionID] != "x" {
				t.Errorf("labels = %v", secret.Labels)
			}
			got := map[string]string{}
			for k, v := range secret.Data {
				got[k] = string(v)
			}
			if !reflect.DeepEqual(got, tt.want) || len(secret.StringData) != 0 {
				t.Errorf("data = %q, want %q", got, tt.want)
			}
			for _, it := range mount.Items {
				if _, ok := secret.Data[it.Key]; !ok {
					t.Errorf("item key %q not in the secret", it.Key)
				}
			}
			back, err := CredentialFromObject(secret)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, mount) {
				t.Errorf("round trip = %+v, want %+v", back, mount)
			}
		})
	}
}

func TestCredentialFromObjectRejectsEscapes(t *testing.T) {
	for _, paths := range []string{
		`[{"key":"a","path":"../../etc/passwd"}]`,
		`[{"key":"a","path":"/etc/passwd"}]`,
		`[{"key":"a","path":"ok/../../x"}]`,
		`not json`,
		``,
	} {
		s := &corev1.Secret{}
		s.Name = "paude-gcloud"
		s.Annotations = map[string]string{AnnotationPaths: paths}
		if _, err := CredentialFromObject(s); err == nil {
			t.Errorf("paths %s accepted", paths)
		}
	}
}

func TestReadCredentialsSymlinkedRootAndDotDotNames(t *testing.T) {
	home := t.TempDir()
	// ~/.claude managed by a dotfiles tool: a link to the real directory.
	writeFile(t, home, "dotfiles/claude/settings.json", []byte(`{}`))
	writeFile(t, home, "dotfiles/claude/.credentials.json", []byte(`{"token":"t"}`))
	if err := os.Symlink(filepath.Join(home, "dotfiles/claude"), filepath.Join(home, ".claude")); err != nil {
		t.Fatal(err)
	}
	// Kubernetes refuses item paths starting with "..": left out.
	writeFile(t, home, "dotfiles/claude/agents/..data", []byte("x"))
	writeFile(t, home, "dotfiles/claude/agents/a.md", []byte("a"))
	found, _, err := ReadCredentials(home)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filePaths(credByKind(found, CredentialClaude)), []string{"claude/.credentials.json", "claude/agents/a.md", "claude/settings.json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("claude files = %v, want %v", got, want)
	}
}
