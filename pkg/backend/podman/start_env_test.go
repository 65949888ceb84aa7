package podman

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// secretEnv are configured values that look like what users put in env:
// tokens, a multi-line key, and characters an env file could be thought
// to mangle.
var secretEnv = map[string]string{
	"GITHUB_TOKEN": "ghp_S3CRETtokenFromConfig0123456789",
	"ODD_SECRET":   ` #odd "S3CRET" 'value' a=b ` + "\t",
	"PRIVATE_KEY":  "-----BEGIN S3CRET-----\nMIIE\n-----END-----\n",
}

// secretHost is a host variable passed through to the agent.
var secretHost = map[string]string{"ANTHROPIC_API_KEY": "sk-ant-S3CRET-key"}

// TestStartKeepsEnvValuesOffArgv tries to find a configured or host env
// value in any argv the Runner receives, in errors and in progress, on
// success and on each way a start can fail; and checks that the values
// reach the session byte for byte in the env file copied into its HOME
// (mode 0600) through podman cp's stdin, which no other process can read.
func TestStartKeepsEnvValuesOffArgv(t *testing.T) {
	const id = "1767323045-deadbeef"
	tests := []struct {
		name    string
		rules   func(f *fakeRunner)
		wantErr string
		copied  bool
	}{
		{name: "a successful start", copied: true},
		{name: "podman create fails",
			rules: func(f *fakeRunner) {
				f.on("create ", "", fail(125, "Error: creating container storage: no space left on device"))
			},
			wantErr: "failed to create the session container"},
		{name: "podman cp fails",
			rules: func(f *fakeRunner) {
				f.on("cp ", "", fail(125, "Error: no space left on device"))
			},
			wantErr: "failed to copy the credentials and settings into the session", copied: true},
		{name: "podman start fails and the start is taken back",
			rules: func(f *fakeRunner) {
				f.on("start paude-", "", fail(126, "Error: OCI runtime error"))
			},
			wantErr: "failed to start the session container", copied: true},
		{name: "the agent dies during start",
			rules: func(f *fakeRunner) {
				f.on("exec paude-"+id+" /usr/local/bin/paude-entrypoint status", "", fail(125, "Error: container is not running"))
				f.on("container inspect --format json paude-"+id, inspectJSON("paude-"+id, "exited", 1, nil, nil), nil)
				f.on("logs --tail 20 paude-"+id, "boom\n", nil)
			},
			wantErr: "the session container stopped during start", copied: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			cfg := config.Defaults(ws)
			cfg.Env = secretEnv
			f := newFake(t)
			if tt.rules != nil {
				tt.rules(f)
			}
			f.on("container inspect --format json paude-proxy-", inspectJSON("paude-proxy-h", "running", 0,
				map[string]string{"app": "paude", "paude.io/role": "proxy"},
				map[string]string{"paude-net-" + id: "10.89.1.2"}), nil)
			defaultRules(f)
			var progress bytes.Buffer
			b := newTestBackend(t, f, Options{User: "1000:0", Getenv: func(k string) string { return secretHost[k] }})
			_, err := b.StartSession(context.Background(), backend.SessionSpec{Config: cfg, Workspace: ws, Progress: &progress})
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
			if !slices.ContainsFunc(calls, func(c string) bool { return strings.Contains(c, "-e PAUDE_ENV_FILE=/home/paude/.paude/env") }) {
				t.Errorf("the create does not point the entrypoint at the env file: %q", calls)
			}
			tars := f.Tars()
			if !tt.copied {
				if len(tars) != 0 {
					t.Errorf("something was copied: %v", tars)
				}
				return
			}
			if len(tars) != 1 {
				t.Fatalf("%d tar streams, want the one home copy: %v", len(tars), tars)
			}
			var want []string
			want = append(want, "5 0700 .paude/", "0 0600 .paude/env")
			for _, k := range []string{"ANTHROPIC_API_KEY", "GITHUB_TOKEN", "ODD_SECRET", "PRIVATE_KEY"} {
				v := secretEnv[k] + secretHost[k]
				want = append(want, fmt.Sprintf("    %q", k+"="+v+"\x00"))
			}
			for _, got := range tars {
				if !slices.Equal(got, want) {
					t.Errorf("home copy\n got: %q\nwant: %q", got, want)
				}
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
