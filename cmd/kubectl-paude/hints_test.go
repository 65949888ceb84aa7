package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHintsNameTheCommandAsTyped runs the built binaries, as a user does,
// under the names they are invoked by (paude; kubectl-paude, as kubectl
// runs it; oc-paude, the name a user links for oc to find; a renamed
// copy) through error paths,
// and checks that every hint names the command the user typed and no
// other: "See 'oc paude stop -h'", "start one with 'oc paude'".
func TestHintsNameTheCommandAsTyped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	bin := t.TempDir()
	for _, pkg := range []string{"paude", "kubectl-paude"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, pkg), "github.com/paude-dev/paude/cmd/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	for link, target := range map[string]string{"oc-paude": "kubectl-paude", "paude-dev": "paude"} {
		if err := os.Symlink(filepath.Join(bin, target), filepath.Join(bin, link)); err != nil {
			t.Fatal(err)
		}
	}
	// A fake podman that knows no containers, and a fake API server that
	// knows namespace "team" and nothing in it.
	fakePodman := filepath.Join(bin, "podman")
	if err := os.WriteFile(fakePodman, []byte("#!/bin/sh\ncase \"$1\" in\n"+
		"ps) echo '[]' ;;\n"+
		"container) echo 'Error: no such container' >&2; exit 125 ;;\n"+
		"*) exit 125 ;;\nesac\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	kubeconfig := fakeCluster(t)

	const id = "1700000000-deadbeef"
	cases := []struct {
		binary, typed string
	}{
		{"paude", "paude"}, {"paude-dev", "paude-dev"}, {"kubectl-paude", "kubectl paude"}, {"oc-paude", "oc paude"},
	}
	errorPaths := []struct {
		args []string
		want string // with %s for the command as typed
	}{
		{[]string{"--frobnicate"}, "See '%s -h'"},
		{[]string{"hello"}, "See '%s -h'"},
		{[]string{"stop", "a", "b"}, "See '%s stop -h'"},
		{[]string{"stop", "--all", id}, "See '%s stop -h'"},
		{[]string{"attach", "Bad;ID"}, "See '%s attach -h'"},
		{[]string{"sessions", "-o", "xml"}, "See '%s sessions -h'"},
		{[]string{"setup", "x"}, "See '%s setup -h'"},
		{[]string{"attach"}, "start one with '%s'"},
		{[]string{"attach", id}, "start one with '%s'"},
		{[]string{"--help"}, "%s attach"},
	}
	// An invoked name other than the one expected, where a hint would
	// show it: a bare "paude <verb>" when the user typed "oc paude".
	hint := regexp.MustCompile(`(?:^|[^a-z-])((?:kubectl |oc )?paude(?:-dev)?)(?: (?:attach|stop|sessions|setup|cleanup|-h)\b|'|` + "`" + `)`)
	for _, c := range cases {
		for _, p := range errorPaths {
			t.Run(c.binary+" "+strings.Join(p.args, " "), func(t *testing.T) {
				cmd := exec.Command(filepath.Join(bin, c.binary), p.args...)
				cmd.Env = []string{"PATH=" + bin, "HOME=" + t.TempDir(), "KUBECONFIG=" + kubeconfig}
				out, _ := cmd.CombinedOutput()
				text := string(out)
				want := fmt.Sprintf(p.want, c.typed)
				if !strings.Contains(text, want) {
					t.Errorf("output lacks %q:\n%s", want, text)
				}
				for _, m := range hint.FindAllStringSubmatch(text, -1) {
					if m[1] != c.typed {
						t.Errorf("a hint names %q, but the user typed %q:\n%s", m[1], c.typed, text)
					}
				}
			})
		}
	}
}

// fakeCluster serves the few API calls an attach to an unknown session
// makes, and returns a kubeconfig pointing at it: namespace "team"
// exists and holds no pods and no claims.
func fakeCluster(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		path := r.URL.Path
		switch {
		case path == "/api/v1/namespaces/team":
			_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "team"}})
		case strings.HasSuffix(path, "/pods") || strings.HasSuffix(path, "/persistentvolumeclaims"):
			_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{}, "metadata": map[string]any{}})
		default:
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "v1", "kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404,
				"message": "not found"})
		}
	}))
	t.Cleanup(srv.Close)
	kubeconfig := filepath.Join(t.TempDir(), "config")
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: %q}
users:
- name: u
  user: {token: fake}
contexts:
- name: fake
  context: {cluster: fake, user: u, namespace: team}
current-context: fake
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}
