package image

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/paude-dev/paude/containers"
	"github.com/paude-dev/paude/pkg/config"
)

// withAssets replaces the embedded image files for one test with a copy
// that edit may change.
func withAssets(t *testing.T, edit func(m fstest.MapFS)) {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(containers.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(containers.FS(), p)
		m[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	old := assets
	assets = m
	t.Cleanup(func() { assets = old })
}

func appendAsset(name, extra string) func(m fstest.MapFS) {
	return func(m fstest.MapFS) {
		m[name] = &fstest.MapFile{Data: append(append([]byte{}, m[name].Data...), extra...), Mode: 0o644}
	}
}

// userBuildConfig is testConfig with a user build whose context is made
// by makeContext from files.
func userBuildConfig(t *testing.T, files map[string]contextFile) *config.Config {
	t.Helper()
	root := makeContext(t, files)
	cfg := testConfig(t.TempDir())
	cfg.Base = ""
	cfg.Build = &config.Build{Dockerfile: filepath.Join(root, "Dockerfile"), Context: root, Args: map[string]string{"V": "1"}}
	return cfg
}

func baseContext() map[string]contextFile {
	return map[string]contextFile{
		"Dockerfile":         {content: "FROM docker.io/library/debian:bookworm-slim\nCOPY . /src\n"},
		"src/main.go":        {content: "package main\n"},
		"src/run.sh":         {content: "#!/bin/sh\n", mode: 0o755},
		"link":               {link: "src/main.go"},
		"build/out.bin":      {content: "ignored output"},
		"build/keep.txt":     {content: "kept by an exclusion"},
		"node_modules/x.js":  {content: "ignored"},
		".dockerignore":      {content: "build\n!build/keep.txt\nnode_modules\n"},
		"docs/deep/file.txt": {content: "deep"},
	}
}

func workspaceTag(t *testing.T, cfg *config.Config) string {
	t.Helper()
	recipe, err := WorkspaceRecipe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return recipe.Tag
}

func TestTagStable(t *testing.T) {
	a := workspaceTag(t, testConfig(t.TempDir()))
	b := workspaceTag(t, testConfig(t.TempDir()))
	if a != b {
		t.Errorf("same inputs, different tags: %s and %s", a, b)
	}
	c1, c2 := testConfig(""), testConfig("")
	c1.Packages = []string{"make", "gcc"}
	c2.Packages = []string{"gcc", "make", "gcc"}
	if workspaceTag(t, c1) != workspaceTag(t, c2) {
		t.Errorf("package order or repetition changed the tag")
	}
	u1 := workspaceTag(t, userBuildConfig(t, baseContext()))
	u2 := workspaceTag(t, userBuildConfig(t, baseContext()))
	if u1 != u2 {
		t.Errorf("same user build in two directories, different tags: %s and %s", u1, u2)
	}
}

func TestTagChangesWithEveryBuildInput(t *testing.T) {
	base := workspaceTag(t, testConfig(""))
	tests := []struct {
		name   string
		edit   func(c *config.Config)
		assets func(m fstest.MapFS)
	}{
		{name: "package", edit: func(c *config.Config) { c.Packages = []string{"make"} }},
		{name: "package version", edit: func(c *config.Config) { c.Packages = []string{"curl=7.88.1-10"} }},
		{name: "base", edit: func(c *config.Config) { c.Base = "docker.io/library/debian:trixie-slim" }},
		{name: "agent command", edit: func(c *config.Config) { c.Agent.Command = "claude2" }},
		{name: "agent args", edit: func(c *config.Config) { c.Agent.Args = []string{"--verbose"} }},
		{name: "yolo args", edit: func(c *config.Config) { c.Agent.YoloArgs = []string{"--yolo"} }},
		{name: "agent install", edit: func(c *config.Config) { c.Agent.Install += " " }},
		{name: "no agent install", edit: func(c *config.Config) { c.Agent.Install = "" }},
		{name: "entrypoint content", assets: appendAsset(entrypointAsset, "\n# changed\n")},
		{name: "tmux.conf content", assets: appendAsset(tmuxConfAsset, "set -g mouse on\n")},
		{name: "Containerfile template", assets: appendAsset(workspaceTemplate, "# changed\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.assets != nil {
				withAssets(t, tt.assets)
			}
			cfg := testConfig("")
			if tt.edit != nil {
				tt.edit(cfg)
			}
			if got := workspaceTag(t, cfg); got == base {
				t.Errorf("tag %s did not change", got)
			}
		})
	}
}

func TestTagChangesWithPipFile(t *testing.T) {
	ws := makeContext(t, map[string]contextFile{"requirements.txt": {content: "rich==13.0\n"}})
	cfg := testConfig(ws)
	cfg.PipInstall = true
	before := workspaceTag(t, cfg)
	if err := os.WriteFile(filepath.Join(ws, "requirements.txt"), []byte("rich==13.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after := workspaceTag(t, cfg); after == before {
		t.Errorf("changing requirements.txt kept tag %s", after)
	}
}

func TestTagChangesWithUserBuildContext(t *testing.T) {
	base := workspaceTag(t, userBuildConfig(t, baseContext()))
	tests := []struct {
		name string
		edit func(files map[string]contextFile)
		args map[string]string
		same bool
	}{
		{name: "Dockerfile", edit: func(f map[string]contextFile) {
			f["Dockerfile"] = contextFile{content: f["Dockerfile"].content + "RUN true\n"}
		}},
		{name: "file content", edit: func(f map[string]contextFile) { f["src/main.go"] = contextFile{content: "package main\n\n"} }},
		{name: "file one byte", edit: func(f map[string]contextFile) { f["docs/deep/file.txt"] = contextFile{content: "deeq"} }},
		{name: "file mode", edit: func(f map[string]contextFile) { f["src/run.sh"] = contextFile{content: "#!/bin/sh\n", mode: 0o644} }},
		{name: "new file", edit: func(f map[string]contextFile) { f["src/new.go"] = contextFile{content: ""} }},
		{name: "renamed file", edit: func(f map[string]contextFile) {
			f["src/main2.go"] = f["src/main.go"]
			delete(f, "src/main.go")
			f["link"] = contextFile{link: "src/main2.go"}
		}},
		{name: "symlink target", edit: func(f map[string]contextFile) { f["link"] = contextFile{link: "src/run.sh"} }},
		{name: "re-included file", edit: func(f map[string]contextFile) { f["build/keep.txt"] = contextFile{content: "changed"} }},
		{name: "ignore file", edit: func(f map[string]contextFile) {
			f[".dockerignore"] = contextFile{content: "build\nnode_modules\n"}
		}},
		{name: "build arg value", args: map[string]string{"V": "2"}},
		{name: "build arg added", args: map[string]string{"V": "1", "W": ""}},
		{name: "ignored file", same: true, edit: func(f map[string]contextFile) { f["build/out.bin"] = contextFile{content: "other output"} }},
		{name: "file in ignored dir", same: true, edit: func(f map[string]contextFile) { f["node_modules/y.js"] = contextFile{content: "new"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := baseContext()
			if tt.edit != nil {
				tt.edit(files)
			}
			cfg := userBuildConfig(t, files)
			if tt.args != nil {
				cfg.Build.Args = tt.args
			}
			got := workspaceTag(t, cfg)
			if tt.same && got != base {
				t.Errorf("tag changed to %s for an input the build does not see", got)
			}
			if !tt.same && got == base {
				t.Errorf("tag %s did not change", got)
			}
		})
	}
}

func TestTagEmptyDirectoryCounts(t *testing.T) {
	cfg := userBuildConfig(t, baseContext())
	before := workspaceTag(t, cfg)
	if err := os.Mkdir(filepath.Join(cfg.Build.Context, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if after := workspaceTag(t, cfg); after == before {
		t.Errorf("an added empty directory kept tag %s", after)
	}
}

func TestUserBuildRefusesSpecialFiles(t *testing.T) {
	cfg := userBuildConfig(t, baseContext())
	sock := filepath.Join(cfg.Build.Context, "src", "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("cannot create a unix socket here: %v", err)
	}
	defer l.Close()
	_, err = WorkspaceRecipe(cfg)
	if err == nil || !strings.Contains(err.Error(), "src/agent.sock is a socket") {
		t.Fatalf("got %v, want an error naming the socket", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Build.Context, ".dockerignore"), []byte("src/agent.sock\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WorkspaceRecipe(cfg); err != nil {
		t.Errorf("an ignored socket still fails the recipe: %v", err)
	}
}

func TestUserBuildRecipe(t *testing.T) {
	cfg := userBuildConfig(t, baseContext())
	recipe, err := WorkspaceRecipe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ub := recipe.UserBuild
	if ub == nil || ub.Dockerfile != cfg.Build.Dockerfile || ub.Context != cfg.Build.Context || ub.Args["V"] != "1" {
		t.Fatalf("user build %+v", ub)
	}
	if !strings.HasPrefix(ub.Tag, UserBaseName+":") || len(ub.Tag) != len(UserBaseName)+13 {
		t.Errorf("user build tag %q", ub.Tag)
	}
	if !strings.Contains(string(recipe.Containerfile), "\nFROM "+ub.Tag+"\n") {
		t.Errorf("Containerfile does not start FROM %s", ub.Tag)
	}
	cfg.Build.Args["V"] = "changed after planning"
	if ub.Args["V"] != "1" {
		t.Errorf("the recipe shares the configuration's args map")
	}
}

func TestTagIgnoresRuntimeSettings(t *testing.T) {
	base := workspaceTag(t, testConfig("/work/a"))
	tests := []struct {
		name string
		edit func(c *config.Config)
	}{
		{"env", func(c *config.Config) { c.Env = map[string]string{"FOO": "other", "NEW": "1"} }},
		{"setup", func(c *config.Config) { c.Setup = "make deps" }},
		{"allowlist", func(c *config.Config) { c.Network.AllowedDomains = []string{".example.com"} }},
		{"cluster DNS", func(c *config.Config) { c.Network.ClusterDNS = true }},
		{"resources", func(c *config.Config) { c.Backend.Resources.Limits.Memory = resource.MustParse("16Gi") }},
		{"workspace volume", func(c *config.Config) { c.Backend.Workspace.Size = resource.MustParse("50Gi") }},
		{"namespace and registry", func(c *config.Config) { c.Backend.Namespace, c.Backend.Registry = "ns", "quay.io/x" }},
		{"idle timeout", func(c *config.Config) { c.Session.IdleTimeout = time.Minute }},
		{"max lifetime", func(c *config.Config) { c.Session.MaxLifetime = 0 }},
		{"sync", func(c *config.Config) { c.Sync.Method, c.Sync.Exclude = "native", []string{"x"} }},
		{"venv", func(c *config.Config) { c.Venv = config.Venv{Mode: config.VenvList, Dirs: []string{".venv"}} }},
		{"workspace path", func(c *config.Config) { c.Workspace = "/work/b" }},
		{"config path and warnings", func(c *config.Config) { c.Path, c.Warnings = "/work/a/paude.json", []string{"w"} }},
		{"agent name", func(c *config.Config) { c.Agent.Name = "other" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("/work/a")
			tt.edit(cfg)
			if got := workspaceTag(t, cfg); got != base {
				t.Errorf("runtime-only change moved the tag from %s to %s", base, got)
			}
		})
	}
}

func TestProxyRecipe(t *testing.T) {
	a, err := ProxyRecipe(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ProxyRecipe(testConfig("/x"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Tag != b.Tag || !strings.HasPrefix(a.Tag, ProxyName+":") || len(a.Tag) != len(ProxyName)+13 {
		t.Errorf("proxy tags %q and %q", a.Tag, b.Tag)
	}
	if !strings.Contains(string(a.Containerfile), "FROM docker.io/library/debian:bookworm-slim\n") || a.UserBuild != nil {
		t.Errorf("unexpected proxy recipe %+v", a)
	}
	if len(a.Files) != 1 || !strings.HasPrefix(string(a.Files["entrypoint.sh"]), "#!/bin/bash") {
		t.Errorf("proxy files %v", sortedKeys(a.Files))
	}
	withAssets(t, appendAsset(proxyEntrypointAsset, "# changed\n"))
	c, err := ProxyRecipe(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tag == a.Tag {
		t.Errorf("changing the proxy entrypoint kept tag %s", c.Tag)
	}
}
