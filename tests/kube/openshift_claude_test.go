//go:build integration

package kube_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/tests/fakeapi"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// kubeCAPath is where the Claude Code test image holds the testbed CA, the
// issuer of the fake internet's certificates.
const kubeCAPath = "/etc/paude-kt-ca.pem"

var (
	claudeOnce  sync.Once
	claudeRef   string
	claudeErr   error
	claudeTook  time.Duration
	claudeBuilt string
)

// claudeImage is the default agent's image, with the real Claude Code
// installed from npm as users get it (config.ClaudeCodeVersion), plus the
// testbed CA at kubeCAPath, loaded into the node. Built once per test
// binary, and only when podman lacks it.
func claudeImage(t *testing.T, c *kubetest.Cluster) string {
	t.Helper()
	claudeOnce.Do(func() {
		start := time.Now()
		root := repoRoot(t)
		tag, err := buildImage(root, helperContent(t), map[string]any{})
		if err != nil {
			claudeErr = err
			return
		}
		claudeBuilt = tag
		dir, err := os.MkdirTemp("", "paude-kt-claude-")
		if err != nil {
			claudeErr = err
			return
		}
		defer os.RemoveAll(dir)
		ca, err := os.ReadFile(c.CA)
		if err != nil {
			claudeErr = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o644); err != nil {
			claudeErr = err
			return
		}
		containerfile := "FROM localhost/" + tag + "\nCOPY ca.pem " + kubeCAPath + "\n"
		if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(containerfile), 0o644); err != nil {
			claudeErr = err
			return
		}
		// The recipe's content tag: one derived image per Claude Code image
		// (the CA layer is rebuilt when the testbed's PKI changes).
		derived := "paude-kt-claude:" + tag[strings.IndexByte(tag, ':')+1:]
		env := append(os.Environ(), "CONTAINERS_CONF="+podmanConf)
		if out, err := run(env, "podman", "build", "--pull=never", "-t", derived, dir); err != nil {
			claudeErr = err
			t.Logf("%s", tail(out, 20))
			return
		}
		claudeRef, claudeErr = loadImage(root, derived)
		claudeTook = time.Since(start)
	})
	if claudeErr != nil {
		t.Fatalf("failed to provide the Claude Code image: %v", claudeErr)
	}
	t.Logf("Claude Code image %s (from %s) ready in %s", claudeRef, claudeBuilt, claudeTook.Round(100*time.Millisecond))
	return claudeRef
}

// TestOpenShiftRealClaudeCodeThroughTheProxy: the real Claude Code in a
// session `kubectl paude --detach` started, with Vertex AI selected in the
// developer's environment and application-default credentials in their
// ~/.config/gcloud, and no allowlist in the project (the default: the
// provider's hosts). `claude -p` gets its answer from tests/fakeapi,
// served under Vertex AI's real host names by the testbed's fake internet,
// through the session's proxy. The fake's record shows the token exchange
// and the model call, each with the credential it expects.
func TestOpenShiftRealClaudeCodeThroughTheProxy(t *testing.T) {
	c := kubetest.Require(t)
	img := claudeImage(t, c)
	ns := c.Namespace(t, restrictedNamespace)
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 1)
	const region = "us-east5"
	fake := fakeapi.NewServer(fakeapi.DefaultReply)
	for _, host := range []string{fakeapi.VertexHost(region), fakeapi.VertexGlobalHost, "oauth2.googleapis.com"} {
		c.FakeInternet.Serve(t, host, fake)
	}
	settings := projectSettings(t, class)
	delete(settings, "agent") // the default agent: Claude Code
	settings["env"] = map[string]string{"NODE_EXTRA_CA_CERTS": kubeCAPath}
	u := newUserCLI(t, c, kubeconfig, writeWorkspace(t, map[string]string{"paude.json": mustJSON(t, settings)}))
	u.env = fake.Env(fakeapi.Vertex, region)
	adc := filepath.Join(u.home, ".config", "gcloud", "application_default_credentials.json")
	if err := os.MkdirAll(filepath.Dir(adc), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(adc, fakeapi.ADCFile(fakeapi.DefaultRefreshToken), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := u.must("--detach", "-n", ns, "--image", img)
	id := strings.TrimSpace(out)

	answer, err := execIn(t, c, ns, id, "claude -p 'Say hello.' 2>&1")
	if err != nil || !strings.Contains(answer, fakeapi.DefaultReply) {
		t.Errorf("claude -p: %v\n%s", err, answer)
	}
	if v, _ := execIn(t, c, ns, id, "claude --version"); !strings.Contains(v, config.ClaudeCodeVersion) {
		t.Errorf("claude --version = %q, want %s", v, config.ClaudeCodeVersion)
	}
	calls := map[fakeapi.Call]bool{}
	for _, r := range fake.Requests() {
		if r.Auth {
			calls[r.Call] = true
		}
		t.Logf("fake API: %s %s%s -> %d (auth %v)", r.Method, r.Host, r.Path, r.Status, r.Auth)
	}
	for _, want := range []fakeapi.Call{fakeapi.CallToken, fakeapi.CallVertex} {
		if !calls[want] {
			t.Errorf("the fake saw no authenticated %s call", want)
		}
	}
	u.must("stop", "--all", "-n", ns)
}
