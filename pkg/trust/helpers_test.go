package trust

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixture is a copy of testdata/workspace and an empty store.
type fixture struct {
	t     *testing.T
	ws    string
	store *Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "project")
	if err := os.CopyFS(ws, os.DirFS("testdata/workspace")); err != nil {
		t.Fatal(err)
	}
	store := &Store{
		Dir: filepath.Join(t.TempDir(), "config", "paude", "trust"),
		Now: func() time.Time { return time.Date(2026, 5, 4, 12, 30, 0, 0, time.UTC) },
	}
	return &fixture{t: t, ws: ws, store: store}
}

// inputs are what a caller would pass for the fixture's devcontainer.json.
func (f *fixture) inputs() Inputs {
	return Inputs{
		Workspace:  f.ws,
		ConfigPath: f.path(".devcontainer/devcontainer.json"),
		Files:      []string{f.ws, f.path("requirements.txt"), f.path("pyproject.toml")},
		Summary: Summary{
			AllowedDomains: []string{"api.anthropic.com", "api.example.com"},
			Env: []Var{
				{Name: "GREETING", Value: "hello"},
				{Name: "TOKEN", Value: "${localEnv:GITHUB_TOKEN}", HostVars: []string{"GITHUB_TOKEN"}},
			},
			Build: &Build{
				Dockerfile: f.path(".devcontainer/Dockerfile"),
				Context:    f.ws,
				Args:       []Var{{Name: "VERSION", Value: "1"}},
			},
			Setup:        "make setup",
			AgentCommand: []string{"claude"},
		},
	}
}

func (f *fixture) path(rel string) string {
	return filepath.Join(f.ws, filepath.FromSlash(rel))
}

func (f *fixture) write(rel, content string) {
	f.t.Helper()
	p := f.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) check(in Inputs) *Status {
	f.t.Helper()
	st, err := f.store.Check(in)
	if err != nil {
		f.t.Fatalf("Check: %v", err)
	}
	return st
}

// trust checks and trusts the inputs as they are now.
func (f *fixture) trust(in Inputs) {
	f.t.Helper()
	if err := f.store.Trust(f.check(in)); err != nil {
		f.t.Fatalf("Trust: %v", err)
	}
}

// recordFile is the fixture workspace's record.
func (f *fixture) recordFile() string {
	ws, err := canonical(f.ws)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.store.path(ws)
}
