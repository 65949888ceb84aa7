package openshift

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestSetupCreatesNamespaceAndCredentials(t *testing.T) {
	tb := newTestBackend(t, testConfig())
	writeFile(t, tb.home, ".config/gcloud/application_default_credentials.json", []byte("{}"))
	writeFile(t, tb.home, ".gitconfig", []byte("[user]\n"))
	var out bytes.Buffer
	if err := tb.Setup(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	want := `Connected to https://api.test.invalid:6443 as alice
Created namespace team
Permissions in namespace team: ok (30 checked)
Skipping claude credentials: ~/.claude and ~/.claude.json not found
Saved gcloud credentials from ~/.config/gcloud in secret paude-gcloud (1 files)
Saved gitconfig credentials from ~/.gitconfig in secret paude-gitconfig (1 files)
Note: no registry for the session's images: this cluster has no OpenShift integrated registry: pass --registry (or set backend.registry) with a registry the cluster can pull from (with --image too: the proxy's image goes there)
Network policies paude-agent-HASH and paude-proxy-HASH confine the agents of allowlist DOMAINS
Namespace team is ready for paude sessions
`
	domains := defaultAllowlist(t)
	hash, err := image.AllowlistHash(domains)
	if err != nil {
		t.Fatal(err)
	}
	want = strings.NewReplacer("HASH", hash, "DOMAINS", strings.Join(domains, ", ")).Replace(want)
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	ctx := context.Background()
	secret, err := tb.cs.CoreV1().Secrets("team").Get(ctx, "paude-gcloud", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := secret.Labels[backend.LabelSessionID]; ok {
		t.Errorf("persistent secret carries a session label: %v", secret.Labels)
	}
	if _, err := CredentialFromObject(secret); err != nil {
		t.Errorf("persistent secret cannot be mounted: %v", err)
	}
	// The gitconfig may hold tokens: a Secret, never a ConfigMap.
	git, err := tb.cs.CoreV1().Secrets("team").Get(ctx, "paude-gitconfig", metav1.GetOptions{})
	if err != nil || git.Type != corev1.SecretTypeOpaque || string(git.Data["gitconfig"]) != "[user]\n" {
		t.Errorf("gitconfig secret = %+v, %v", git, err)
	}
	assertNoConfigMaps(t, tb.cs)
	// A second run changes nothing and says the namespace exists.
	out.Reset()
	if err := tb.Setup(ctx, &out); err != nil || !strings.Contains(out.String(), "Namespace team (from kubeconfig context) exists") {
		t.Errorf("second setup: %v\n%s", err, out.String())
	}
	assertNoConfigMaps(t, tb.cs)
}

func TestSetupRefusals(t *testing.T) {
	tests := []struct {
		name    string
		deny    string
		wantErr []string
	}{
		{"cannot create namespace", "create namespaces", []string{`namespace "team" does not exist`, "not allowed to create namespaces cluster-wide", "oc new-project team"}},
		{"cannot exec", "create pods/exec", []string{`user "alice" is not allowed to create pods/exec in namespace "team"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, testConfig())
			if tt.deny == "create pods/exec" {
				if _, err := tb.cs.CoreV1().Namespaces().Create(context.Background(), teamNS.DeepCopy(), metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			allowAll(tb.cs, tt.deny)
			writeFile(t, tb.home, ".gitconfig", []byte("[user]\n"))
			err := tb.Setup(context.Background(), &bytes.Buffer{})
			if err == nil || !containsAll(err.Error(), tt.wantErr...) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if _, err := tb.cs.CoreV1().Secrets("team").Get(context.Background(), "paude-gitconfig", metav1.GetOptions{}); err == nil {
				t.Errorf("credentials created despite the refusal")
			}
		})
	}
}

func TestDryRun(t *testing.T) {
	cfg := testConfig()
	cfg.Env["GITHUB_TOKEN"] = "ghp_DRYRUN-T0KEN"
	tb := newTestBackend(t, cfg)
	tb.opts.Getenv = func(k string) string {
		return map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "vertex-proj-9d2b"}[k]
	}
	writeFile(t, tb.home, ".config/gcloud/application_default_credentials.json", []byte(`{"refresh_token":"SECRET-VALUE"}`))
	gitconfig := []byte("[user]\n\tname = Me\n[http]\n\textraHeader = Authorization: Bearer GIT-TOKEN\n")
	writeFile(t, tb.home, ".gitconfig", gitconfig)
	opts := startOpts(t)
	opts.Workspace = "/home/me/proj" // in the golden output
	opts.Yolo = true
	var out bytes.Buffer
	if err := tb.DryRun(context.Background(), opts, &out); err != nil {
		t.Fatal(err)
	}
	if n := len(tb.cs.Actions()); n != 0 {
		t.Errorf("dry run made %d API calls", n)
	}
	// The gitconfig is a Secret like the others: neither its text nor
	// its base64 may appear. Nor may env values from paude.json or the
	// host, which the pod takes from the env Secret.
	for _, leak := range []string{"SECRET-VALUE", "U0VDUkVU", "GIT-TOKEN", "name = Me", base64.StdEncoding.EncodeToString(gitconfig),
		"DRYRUN-T0KEN", base64.StdEncoding.EncodeToString([]byte("ghp_DRYRUN-T0KEN")),
		"vertex-proj-9d2b", base64.StdEncoding.EncodeToString([]byte("vertex-proj-9d2b")), "value: bar"} {
		if strings.Contains(out.String(), leak) {
			t.Errorf("dry run printed a credential value (%q)", leak)
		}
	}
	if strings.Contains(out.String(), "kind: ConfigMap") {
		t.Errorf("dry run plans a ConfigMap")
	}
	golden := filepath.Join("testdata", "dryrun.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if out.String() != string(want) {
		t.Errorf("dry run output differs from %s (go test -update rewrites it):\n%s", golden, out.String())
	}
	if err := tb.DryRun(context.Background(), backend.SessionSpec{Workspace: "/w"}, &out); err == nil {
		t.Errorf("dry run without an image accepted")
	}
}
