package podman

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// secretEnv are configured values that look like what users put in env:
// tokens, and characters an env file could be thought to mangle.
var secretEnv = map[string]string{
	"GITHUB_TOKEN": "ghp_S3CRETtokenFromConfig0123456789",
	"ODD_SECRET":   ` #odd "S3CRET" 'value' a=b `,
}

// secretHost is a host variable passed through to the agent.
var secretHost = map[string]string{"ANTHROPIC_VERTEX_PROJECT_ID": "vertex-S3CRET-project"}

// TestStartKeepsEnvValuesOffArgv tries to find a configured or host env
// value in any argv the Runner receives, on success and on each way a
// start can fail after the env file was written; and checks that podman
// got the values in a private env file that is gone when StartSession
// returns.
func TestStartKeepsEnvValuesOffArgv(t *testing.T) {
	const id = "1767323045-deadbeef"
	tests := []struct {
		name    string
		rules   func(f *fakeRunner)
		wantErr string
	}{
		{name: "a successful start"},
		{name: "podman create fails",
			rules: func(f *fakeRunner) {
				f.on("create ", "", fail(125, "Error: creating container storage: no space left on device"))
			},
			wantErr: "failed to create the session container"},
		{name: "podman start fails and the start is taken back",
			rules: func(f *fakeRunner) {
				f.on("start paude-", "", fail(126, "Error: OCI runtime error"))
			},
			wantErr: "failed to start the session container"},
		{name: "the agent dies during start",
			rules: func(f *fakeRunner) {
				f.on("exec paude-"+id+" /usr/local/bin/paude-entrypoint status", "", fail(125, "Error: container is not running"))
				f.on("container inspect --format json paude-"+id, inspectJSON("paude-"+id, "exited", 1, nil, nil), nil)
				f.on("logs --tail 20 paude-"+id, "boom\n", nil)
			},
			wantErr: "the session container stopped during start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, envDir := t.TempDir(), t.TempDir()
			cfg := config.Defaults(ws)
			cfg.Env = secretEnv
			f := newFake(t)
			if tt.rules != nil {
				tt.rules(f)
			}
			f.on("container inspect --format json paude-proxy", inspectJSON("paude-proxy", "running", 0,
				map[string]string{"app": "paude", "paude.io/role": "proxy"},
				map[string]string{"paude-internal": "203.0.113.66"}), nil)
			f.on("run --detach --name paude-proxy", "", nil)
			defaultRules(f)
			var progress bytes.Buffer
			b := newTestBackend(t, f, Options{User: "1000:0", EnvFileDir: envDir,
				Getenv: func(k string) string { return secretHost[k] }})
			_, err := b.StartSession(context.Background(), backend.StartOptions{Config: cfg, Workspace: ws, Progress: &progress})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("StartSession: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}

			calls := f.Calls()
			for _, v := range append(values(secretEnv), values(secretHost)...) {
				for _, c := range calls {
					if strings.Contains(c, v) {
						t.Errorf("podman was called with the value %q on its command line: %s", v, c)
					}
				}
				if err != nil && strings.Contains(err.Error(), v) {
					t.Errorf("the error shows %q: %v", v, err)
				}
				if strings.Contains(progress.String(), v) {
					t.Errorf("the progress shows %q", v)
				}
			}

			files := f.EnvFiles()
			if len(files) != 1 {
				t.Fatalf("%d calls named an env file, want the create only: %v", len(files), files)
			}
			for i, ef := range files {
				if !strings.HasPrefix(calls[i], "create ") {
					t.Errorf("call %d named the env file: %s", i, calls[i])
				}
				want := envFileHeader + "ANTHROPIC_VERTEX_PROJECT_ID=" + secretHost["ANTHROPIC_VERTEX_PROJECT_ID"] + "\n" +
					"GITHUB_TOKEN=" + secretEnv["GITHUB_TOKEN"] + "\n" + "ODD_SECRET=" + secretEnv["ODD_SECRET"] + "\n"
				if ef.content != want {
					t.Errorf("env file content\n got: %q\nwant: %q", ef.content, want)
				}
				if ef.mode != 0o600 || ef.dirMode != 0o700|os.ModeDir {
					t.Errorf("env file mode %v in a directory of mode %v, want 0600 in 0700", ef.mode, ef.dirMode)
				}
			}
			if left, _ := os.ReadDir(envDir); len(left) != 0 {
				t.Errorf("the env file outlived StartSession: %v", left)
			}
		})
	}
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestStartRefusesEnvBeforeCreating checks that an env value the env file
// cannot carry, or a podman that would misread the file, stops the start
// before podman creates anything.
func TestStartRefusesEnvBeforeCreating(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		version string
		wantErr string
		calls   []string
	}{
		{name: "a multi-line value", env: map[string]string{"PRIVATE_KEY": "-----BEGIN-----\nMIIE\n-----END-----"},
			wantErr: "configured variable PRIVATE_KEY cannot be passed to the session: its value has a line break, which podman's --env-file cannot carry"},
		{name: "podman 4.7.0", env: map[string]string{"A": "1"}, version: "podman version 4.7.0\n",
			wantErr: "podman 4.7.0 misreads --env-file values", calls: []string{checkCall, "--version"}},
		{name: "podman does not say its version", env: map[string]string{"A": "1"},
			wantErr: "failed to ask podman for its version", calls: []string{checkCall, "--version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, envDir := t.TempDir(), t.TempDir()
			cfg := config.Defaults(ws)
			cfg.Env = tt.env
			f := newFake(t)
			f.on("ps --quiet", "", nil)
			if tt.version != "" {
				f.on("--version", tt.version, nil)
			} else {
				f.on("--version", "", fail(125, "Error: unknown flag"))
			}
			b := newTestBackend(t, f, Options{EnvFileDir: envDir})
			_, err := b.StartSession(context.Background(), backend.StartOptions{Config: cfg, Workspace: ws})
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v\nwant %s", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "MIIE") {
				t.Errorf("the error shows the value: %v", err)
			}
			diffCalls(t, f.Calls(), tt.calls)
			if left, _ := os.ReadDir(envDir); len(left) != 0 {
				t.Errorf("an env file was written: %v", left)
			}
		})
	}
}
