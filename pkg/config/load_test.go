package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// fakeEnv is the host environment seen by ${localEnv:...} in tests.
func fakeEnv(name string) (string, bool) {
	if name == "PAUDE_TEST_TOKEN" {
		return "s3cret", true
	}
	return "", false
}

// public returns c without its unexported bookkeeping, for comparisons.
func public(c *Config) Config {
	out := *c
	out.origins, out.srcPath, out.templates = nil, "", nil
	return out
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestLoadFileValid(t *testing.T) {
	ws := mustAbs(t, "testdata/paude")
	defaults := Defaults(ws)
	tests := []struct {
		file string
		want func(c *Config)
	}{
		{"full.json", func(c *Config) {
			c.Base = "docker.io/library/node:22-slim"
			c.Packages = []string{"make", "gcc", "curl=7.88.1-10+deb12u5"}
			c.Setup = "npm ci"
			c.Venv = Venv{Mode: VenvList, Dirs: []string{".venv", "tools/venv"}}
			c.PipInstall = true
			c.Env = map[string]string{"FOO": "bar", "FROM_HOST": "s3cret", "WITH_DEFAULT": "fallback"}
			c.Agent.Args = []string{"--verbose"}
			// Lower-cased and de-duplicated; the provider's hosts are
			// added at start.
			c.Network = Network{AllowedDomains: []string{"api.example.com", ".pypi.org"}, AllowedDomainsSet: true, ExtendDefaults: true, ClusterDNS: true}
			c.Backend = BackendSettings{
				Resources: Resources{
					Requests: ResourceList{CPU: resource.MustParse("500m"), Memory: resource.MustParse("1Gi")},
					Limits:   ResourceList{CPU: resource.MustParse("2"), Memory: resource.MustParse("2Gi")},
				},
				ProxyResources: defaults.Backend.ProxyResources,
				Workspace:      WorkspaceVolume{Size: resource.MustParse("20Gi"), StorageClass: "fast-ssd", KeepOnStop: false},
				Namespace:      "my-team",
				Registry:       "quay.io/my-org",
				StartTimeout:   90 * time.Second,
			}
			c.Session = Session{IdleTimeout: 0, MaxLifetime: 48 * time.Hour}
			c.Sync = Sync{Method: SyncNative, Exclude: []string{"dist", "*.log"}}
		}},
		{"other-agent.json", func(c *Config) {
			c.Agent = Agent{Name: "aider", Command: "aider", Args: []string{"--no-auto-commits"}}
			c.Network = Network{AllowedDomains: []string{}, AllowedDomainsSet: true}
			c.Sync.Exclude = []string{}
		}},
		{"build.json", func(c *Config) {
			c.Base = ""
			c.Build = &Build{
				Dockerfile: filepath.Join(ws, "docker/Dockerfile"),
				Context:    ws,
				Args:       map[string]string{"VERSION": "1.2", "TOKEN": "s3cret"},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Loader{LookupEnv: fakeEnv}.LoadFile(filepath.Join("testdata/paude", tt.file), "testdata/paude")
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			want := *defaults
			want.Path, want.Kind = filepath.Join(ws, tt.file), KindPaude
			tt.want(&want)
			if !reflect.DeepEqual(public(got), want) {
				t.Errorf("LoadFile(%s):\n got: %+v\nwant: %+v", tt.file, public(got), want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate of a loaded config: %v", err)
			}
		})
	}
}

// writeFiles creates files (relative path → content) under a new
// temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDetectionOrder(t *testing.T) {
	const (
		dev     = `{"image": "debian:trixie"}`
		dotDev  = `{"image": "ubuntu:24.04"}`
		paude   = `{"base": "fedora:41"}`
		invalid = `{"base": }`
	)
	tests := []struct {
		name     string
		files    map[string]string
		wantPath string
		wantKind Kind
		wantBase string
	}{
		{"none", nil, "", KindNone, DefaultBase},
		{"paude.json only", map[string]string{"paude.json": paude}, "paude.json", KindPaude, "fedora:41"},
		{".devcontainer.json beats paude.json",
			map[string]string{".devcontainer.json": dotDev, "paude.json": invalid},
			".devcontainer.json", KindDevcontainer, "ubuntu:24.04"},
		{".devcontainer/devcontainer.json beats both",
			map[string]string{".devcontainer/devcontainer.json": dev, ".devcontainer.json": invalid, "paude.json": invalid},
			".devcontainer/devcontainer.json", KindDevcontainer, "debian:trixie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := writeFiles(t, tt.files)
			cfg, err := Load(ws)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			wantPath := ""
			if tt.wantPath != "" {
				wantPath = filepath.Join(ws, tt.wantPath)
			}
			if cfg.Path != wantPath || cfg.Kind != tt.wantKind || string(cfg.Base) != tt.wantBase || cfg.Workspace != ws {
				t.Errorf("Load = path %q kind %q base %q workspace %q, want %q %q %q %q",
					cfg.Path, cfg.Kind, cfg.Base, cfg.Workspace, wantPath, tt.wantKind, tt.wantBase, ws)
			}
		})
	}
}

func TestLoadDefaultsAreValid(t *testing.T) {
	cfg, err := Load(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	want := Defaults(cfg.Workspace)
	if !reflect.DeepEqual(public(cfg), public(want)) {
		t.Errorf("Load without a file = %+v, want the defaults %+v", public(cfg), public(want))
	}
}

func TestLoadReadErrors(t *testing.T) {
	big := make([]byte, maxFileSize+1)
	for i := range big {
		big[i] = ' '
	}
	tests := []struct {
		name  string
		setup func(ws string) error
		want  string
	}{
		{"directory in place of the file",
			func(ws string) error { return os.Mkdir(filepath.Join(ws, "paude.json"), 0o755) },
			"paude.json is a directory: paude expects a configuration file there; rename the directory"},
		{"file too large",
			func(ws string) error { return os.WriteFile(filepath.Join(ws, "paude.json"), big, 0o644) },
			"paude.json is larger than 1048576 bytes: this is not a configuration file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			if err := tt.setup(ws); err != nil {
				t.Fatal(err)
			}
			_, err := Load(ws)
			if want := filepath.Join(ws, tt.want); err == nil || err.Error() != want {
				t.Errorf("Load error = %v, want %s", err, want)
			}
		})
	}
}

// TestLoadByteOrderMark reads files that editors on Windows write: a UTF-8
// byte order mark first. Positions in messages still count from the text.
func TestLoadByteOrderMark(t *testing.T) {
	ws := writeFiles(t, map[string]string{"paude.json": "\uFEFF{\"packages\": [\"gcc\"]}"})
	cfg, err := Load(ws)
	if err != nil {
		t.Fatalf("a file starting with a byte order mark was refused: %v", err)
	}
	if !reflect.DeepEqual(cfg.Packages, []string{"gcc"}) {
		t.Errorf("packages %v, want [gcc]", cfg.Packages)
	}
	ws = writeFiles(t, map[string]string{"paude.json": "\uFEFF{\"pacakges\": []}"})
	_, err = Load(ws)
	if err == nil || !strings.HasSuffix(err.Error(), `paude.json:1:2: unknown key "pacakges" in the top level (valid keys: $schema, agent, backend, base, build, env, image, network, packages, pip_install, session, setup, sync, venv)`) {
		t.Errorf("error = %v, want one at 1:2", err)
	}
	// A mark anywhere else is no byte order mark: JSON does not allow it.
	ws = writeFiles(t, map[string]string{"paude.json": "{\"setup\": \"x\"}\uFEFF"})
	if _, err := Load(ws); err == nil {
		t.Error("a byte order mark after the text was accepted")
	}
}
