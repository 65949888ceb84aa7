package openshift

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
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
	if err := os.Symlink(filepath.Join(home, "elsewhere/token"), filepath.Join(home, ".config/gcloud/linked_token")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(home, "elsewhere"), filepath.Join(home, ".config/gcloud/linked_dir")); err != nil {
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
		CredentialGcloud:    {"application_default_credentials.json", "configurations/config_default", "legacy_credentials/me@example.com/adc.json", "linked_token"},
		CredentialGitconfig: {"gitconfig"},
		CredentialClaude:    {"claude.json", "claude/agents/reviewer.md", "claude/settings.json"},
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
	if g := credByKind(found, CredentialGcloud); string(g.Files[slices.IndexFunc(g.Files, func(f CredentialFile) bool { return f.Path == "linked_token" })].Data) != "tok" {
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
	writeFile(t, home, ".config/gcloud/credentials.db", bytes.Repeat([]byte("a"), 700<<10))
	writeFile(t, home, ".config/gcloud/access_tokens.db", bytes.Repeat([]byte("b"), 500<<10))
	writeFile(t, home, ".config/gcloud/small", []byte("c"))
	_, _, err := ReadCredentials(home)
	if err == nil {
		t.Fatal("want an error for credentials over the Secret size limit")
	}
	msg := err.Error()
	if !containsAll(msg, "gcloud credentials from ~/.config/gcloud total 1.2 MiB", "over the 1.0 MiB a Secret can hold",
		"~/.config/gcloud/credentials.db (700.0 KiB), ~/.config/gcloud/access_tokens.db (500.0 KiB), ~/.config/gcloud/small (1 B)") {
		t.Errorf("error = %q", msg)
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
	gcloud := LocalCredential{Kind: CredentialGcloud, Files: []CredentialFile{
		{Path: "legacy_credentials/me@example.com/adc.json", Data: []byte("{}")},
		{Path: "active_config", Data: []byte("default")},
	}}
	obj, mount, err := CredentialObject(gcloud, "team", "paude-x-gcloud", SessionLabels("x", RoleCredential))
	if err != nil {
		t.Fatal(err)
	}
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		t.Fatalf("gcloud object is %T, want Secret", obj)
	}
	if secret.Labels[LabelCredential] != "gcloud" || secret.Labels[LabelSessionID] != "x" || secret.Namespace != "team" {
		t.Errorf("labels = %v", secret.Labels)
	}
	for _, it := range mount.Items {
		if _, ok := secret.Data[it.Key]; !ok {
			t.Errorf("item key %q not in the secret", it.Key)
		}
	}
	back, err := CredentialFromObject(secret, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, mount) {
		t.Errorf("round trip = %+v, want %+v", back, mount)
	}

	git := LocalCredential{Kind: CredentialGitconfig, Files: []CredentialFile{{Path: "gitconfig", Data: []byte("[user]\n")}}}
	obj, mount, err = CredentialObject(git, "team", "paude-gitconfig", map[string]string{LabelApp: AppName})
	if err != nil {
		t.Fatal(err)
	}
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok || !mount.ConfigMap || cm.Data["gitconfig"] != "[user]\n" {
		t.Errorf("gitconfig object = %#v", obj)
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
		if _, err := CredentialFromObject(s, false); err == nil {
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
	writeFile(t, home, ".config/gcloud/..data", []byte("x"))
	writeFile(t, home, ".config/gcloud/adc.json", []byte("{}"))
	found, _, err := ReadCredentials(home)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filePaths(credByKind(found, CredentialClaude)), []string{"claude/.credentials.json", "claude/settings.json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("claude files = %v, want %v", got, want)
	}
	if got, want := filePaths(credByKind(found, CredentialGcloud)), []string{"adc.json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("gcloud files = %v, want %v", got, want)
	}
}
