package plugin

import (
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
)

const goodConfig = `{
  // JSONC: comments and trailing commas are fine
  "packages": ["make", "gcc",],
  "network": {"allowedDomains": ["api.example.com", ".pypi.org",],},
}
`

func TestDryRunPrintsEverythingAndStartsNothing(t *testing.T) {
	ws := emptyWorkspace(t)
	writeFile(t, ws, "paude.json", goodConfig)
	f := &fakeBackend{typ: backend.Podman}
	res := runCmd(t, Standalone, f, ws, "--dry-run")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.errOut)
	}
	for _, want := range []string{
		"# from " + ws + "/paude.json",
		"# ---- Containerfile for paude-workspace:",
		"FROM docker.io/library/debian:bookworm-slim",
		"make",
		"# ---- squid.conf ----",
		"api.example.com",
		".pypi.org",
		"http_access deny all",
		"# ---- steps (podman backend) ----\nFAKE STEPS for " + ws,
	} {
		if !strings.Contains(res.out, want) {
			t.Errorf("dry-run output lacks %q", want)
		}
	}
	if len(f.calls) != 0 {
		t.Fatalf("dry run called the backend: %s", calls(f))
	}
}

func TestDryRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"missing comma", "{\n  \"packages\": [\"make\"]\n  \"setup\": \"x\"\n}\n", "paude.json:3:3"},
		{"unknown key", "{\n  \"pakages\": []\n}\n", "paude.json:2:3"},
		{"bad quantity", "{\"backend\": {\"resources\": {\"limits\": {\"cpu\": \"lots\"}}}}", "paude.json:1:46"},
		{"package injection", "{\n  \"packages\": [\"gcc;curl x|sh\"]\n}\n", "paude.json:2:16"},
		{"domain injection", "{\"network\": {\"allowedDomains\": [\n  \"evil.com\\nhttp_access allow all\"]}}", "paude.json:2:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := emptyWorkspace(t)
			writeFile(t, ws, "paude.json", tt.config)
			res := runCmd(t, Standalone, &fakeBackend{typ: backend.Podman}, ws, "--dry-run")
			if res.code == 0 || !strings.Contains(res.errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q lacks %q", res.code, res.errOut, tt.want)
			}
			if strings.Contains(res.out, "Containerfile") {
				t.Fatal("a rejected configuration still printed a Containerfile")
			}
		})
	}
}
