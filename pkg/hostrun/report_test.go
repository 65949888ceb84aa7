package hostrun

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReportCategories(t *testing.T) {
	requireGit(t)
	type change = Change
	tests := []struct {
		name   string
		before func(t *testing.T, ws string)
		during func(t *testing.T, ws string)
		want   []change
	}{
		{
			name:   "nothing changed",
			during: func(t *testing.T, ws string) { write(t, ws, "main.go", "package main // edited\n") },
		},
		{
			name:   "a nested repository is added",
			during: func(t *testing.T, ws string) { git(t, ws, "init", "-q", "vendor/x") },
			want:   []change{{"vendor/x/.git", GitRepositories, Added}},
		},
		{
			name:   "a nested repository's config is modified",
			before: func(t *testing.T, ws string) { git(t, ws, "init", "-q", "vendor/x") },
			during: func(t *testing.T, ws string) {
				git(t, filepath.Join(ws, "vendor/x"), "config", "core.fsmonitor", "evil")
			},
			want: []change{{"vendor/x/.git", GitRepositories, Modified}},
		},
		{
			name:   "a nested repository gets a hook",
			before: func(t *testing.T, ws string) { git(t, ws, "init", "-q", "vendor/x") },
			during: func(t *testing.T, ws string) {
				writeMode(t, ws, "vendor/x/.git/hooks/post-checkout", "#!/bin/sh\n", 0o755)
			},
			want: []change{{"vendor/x/.git", GitRepositories, Modified}},
		},
		{
			name:   "a nested repository is removed",
			before: func(t *testing.T, ws string) { git(t, ws, "init", "-q", "vendor/x") },
			during: func(t *testing.T, ws string) { remove(t, ws, "vendor/x/.git") },
			want:   []change{{"vendor/x/.git", GitRepositories, Removed}},
		},
		{
			name:   "a repository inside node_modules counts",
			during: func(t *testing.T, ws string) { git(t, ws, "init", "-q", "node_modules/dep") },
			want:   []change{{"node_modules/dep/.git", GitRepositories, Added}},
		},
		{
			name: "a dependency's package.json does not",
			during: func(t *testing.T, ws string) {
				write(t, ws, "node_modules/dep/package.json", `{"scripts": {"postinstall": "evil"}}`)
			},
		},
		{
			name:   "a .git file is rewritten",
			before: func(t *testing.T, ws string) { write(t, ws, "sub/.git", "gitdir: ../.git/modules/sub\n") },
			during: func(t *testing.T, ws string) { write(t, ws, "sub/.git", "gitdir: ../planted\n") },
			want:   []change{{"sub/.git", GitRepositories, Modified}},
		},
		{
			name:   "the workspace's own commondir is planted",
			during: func(t *testing.T, ws string) { write(t, ws, ".git/commondir", "../planted\n") },
			want:   []change{{".git", GitRepositories, Modified}},
		},
		{
			name: "the workspace's .git is swapped for another",
			during: func(t *testing.T, ws string) {
				if err := os.Rename(filepath.Join(ws, ".git"), filepath.Join(ws, "old-git")); err != nil {
					t.Fatal(err)
				}
				git(t, ws, "init", "-q")
				git(t, ws, "config", "core.fsmonitor", "evil")
			},
			// The old one is a repository where it now is, too.
			want: []change{{".git", GitRepositories, Modified}, {"old-git", GitRepositories, Added}},
		},
		{
			// No .git anywhere: a bare repository's shape in an ordinary
			// directory, which git takes for a repository below it.
			name: "a bare repository planted",
			during: func(t *testing.T, ws string) {
				for _, d := range []string{"src/objects", "src/refs"} {
					if err := os.MkdirAll(filepath.Join(ws, d), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				writeMode(t, ws, "src/HEAD", "ref: refs/heads/main\n", 0o644)
				writeMode(t, ws, "src/config", "[core]\n\tpager = evil\n", 0o644)
			},
			want: []change{{"src", GitRepositories, Added}},
		},
		{
			name: "HEAD and refs alone are no repository",
			during: func(t *testing.T, ws string) {
				if err := os.MkdirAll(filepath.Join(ws, "docs/refs"), 0o755); err != nil {
					t.Fatal(err)
				}
				writeMode(t, ws, "docs/HEAD", "x\n", 0o644)
			},
		},
		{
			name:   "husky hooks",
			before: func(t *testing.T, ws string) { writeMode(t, ws, ".husky/pre-commit", "npm test\n", 0o755) },
			during: func(t *testing.T, ws string) {
				writeMode(t, ws, ".husky/pre-commit", "evil\n", 0o755)
				writeMode(t, ws, ".husky/post-checkout", "evil\n", 0o755)
			},
			want: []change{{".husky/post-checkout", GitHooks, Added}, {".husky/pre-commit", GitHooks, Modified}},
		},
		{
			name:   "a hook made executable",
			before: func(t *testing.T, ws string) { writeMode(t, ws, ".githooks/pre-push", "evil\n", 0o644) },
			during: func(t *testing.T, ws string) { writeMode(t, ws, ".githooks/pre-push", "evil\n", 0o755) },
			want:   []change{{".githooks/pre-push", GitHooks, Modified}},
		},
		{
			name: "core.hooksPath names a directory in the workspace",
			before: func(t *testing.T, ws string) {
				git(t, ws, "config", "core.hooksPath", "tools/hooks")
				writeMode(t, ws, "tools/hooks/pre-commit", "true\n", 0o755)
			},
			during: func(t *testing.T, ws string) { remove(t, ws, "tools/hooks/pre-commit") },
			want:   []change{{"tools/hooks/pre-commit", GitHooks, Removed}},
		},
		{
			name: "hook manager configs",
			before: func(t *testing.T, ws string) {
				write(t, ws, ".pre-commit-config.yaml", "repos: []\n")
				write(t, ws, "lefthook.yml", "pre-commit: {}\n")
			},
			during: func(t *testing.T, ws string) {
				write(t, ws, ".pre-commit-config.yaml", "repos: [{repo: local, hooks: [{id: x, entry: evil}]}]\n")
				remove(t, ws, "lefthook.yml")
				write(t, ws, ".lefthook.yml", "pre-commit: {commands: {x: {run: evil}}}\n")
				write(t, ws, ".lintstagedrc", "{\"*\": \"evil\"}\n")
			},
			want: []change{
				{".lefthook.yml", GitHooks, Added}, {".lintstagedrc", GitHooks, Added},
				{".pre-commit-config.yaml", GitHooks, Modified}, {"lefthook.yml", GitHooks, Removed},
			},
		},
		{
			name: "config files and programs the host's git names",
			before: func(t *testing.T, ws string) {
				write(t, ws, "project.gitconfig", "[core]\n\tautocrlf = false\n")
				git(t, ws, "config", "include.path", "../project.gitconfig")
				writeMode(t, ws, "tools/fsmonitor", "#!/bin/sh\n", 0o755)
				git(t, ws, "config", "core.fsmonitor", "tools/fsmonitor")
				git(t, ws, "config", "alias.lint", "!scripts/lint.sh --fix")
				writeMode(t, ws, "scripts/lint.sh", "#!/bin/sh\n", 0o755)
			},
			during: func(t *testing.T, ws string) {
				write(t, ws, "project.gitconfig", "[core]\n\tfsmonitor = evil\n")
				writeMode(t, ws, "tools/fsmonitor", "#!/bin/sh\nevil\n", 0o755)
				writeMode(t, ws, "scripts/lint.sh", "#!/bin/sh\nevil\n", 0o755)
			},
			want: []change{
				{"project.gitconfig", GitConfig, Modified}, {"scripts/lint.sh", GitConfig, Modified},
				{"tools/fsmonitor", GitConfig, Modified},
			},
		},
		{
			name:   "attributes and submodules",
			before: func(t *testing.T, ws string) { write(t, ws, ".gitmodules", "") },
			during: func(t *testing.T, ws string) {
				write(t, ws, ".gitattributes", "* filter=evil\n")
				write(t, ws, "deep/dir/.gitattributes", "* diff=evil\n")
				write(t, ws, ".gitmodules", "[submodule \"x\"]\n\turl = evil\n")
			},
			want: []change{
				{".gitattributes", GitAttributes, Added}, {".gitmodules", GitAttributes, Modified},
				{"deep/dir/.gitattributes", GitAttributes, Added},
			},
		},
		{
			name:   "shell environment",
			before: func(t *testing.T, ws string) { write(t, ws, "mise.toml", "") },
			during: func(t *testing.T, ws string) {
				write(t, ws, ".envrc", "evil\n")
				remove(t, ws, "mise.toml")
			},
			want: []change{{".envrc", ShellEnv, Added}, {"mise.toml", ShellEnv, Removed}},
		},
		{
			name:   "editor settings",
			before: func(t *testing.T, ws string) { write(t, ws, ".idea/workspace.xml", "<x/>") },
			during: func(t *testing.T, ws string) {
				write(t, ws, ".vscode/tasks.json", `{"tasks": [{"runOptions": {"runOn": "folderOpen"}}]}`)
				write(t, ws, ".idea/workspace.xml", "<evil/>")
				symlink(t, ws, "/elsewhere", "sub/.vscode")
			},
			want: []change{
				{".idea/workspace.xml", Editors, Modified}, {".vscode/tasks.json", Editors, Added},
				{"sub/.vscode", Editors, Added},
			},
		},
		{
			name:   "dev containers and paude",
			before: func(t *testing.T, ws string) { write(t, ws, ".devcontainer/devcontainer.json", "{}") },
			during: func(t *testing.T, ws string) {
				write(t, ws, ".devcontainer/devcontainer.json", `{"initializeCommand": "evil"}`)
				write(t, ws, "paude.json", `{"network": {"allowedDomains": ["evil.example"]}}`)
			},
			want: []change{{".devcontainer/devcontainer.json", DevContainers, Modified}, {"paude.json", DevContainers, Added}},
		},
		{
			name: "build scripts",
			during: func(t *testing.T, ws string) {
				write(t, ws, "Makefile", "all:\n\tevil\n")
				write(t, ws, "package.json", `{"name": "x", "version": "1.0.0", "scripts": {"test": "evil"}, "dependencies": {"a": "1"}}`)
			},
			want: []change{{"Makefile", BuildScripts, Modified}, {"package.json", BuildScripts, Modified}},
		},
		{
			name: "package.json without a change to its scripts",
			during: func(t *testing.T, ws string) {
				write(t, ws, "package.json", "{\n  \"name\": \"x\",\n  \"version\": \"2.0.0\",\n  \"scripts\": {\"test\": \"go test\"},\n  \"dependencies\": {\"a\": \"2\", \"b\": \"1\"}\n}\n")
			},
		},
		{
			name: "CI pipelines",
			before: func(t *testing.T, ws string) {
				write(t, ws, ".gitlab-ci.yml", "x: {}\n")
			},
			during: func(t *testing.T, ws string) {
				write(t, ws, ".github/workflows/ci.yml", "on: push\njobs: {evil: {}}\n")
				remove(t, ws, ".gitlab-ci.yml")
				write(t, ws, "Jenkinsfile", "evil\n")
				// Only the top of the workspace counts for CI.
				write(t, ws, "sub/.github/workflows/x.yml", "evil\n")
			},
			want: []change{
				{".github/workflows/ci.yml", CIPipelines, Modified}, {".gitlab-ci.yml", CIPipelines, Removed},
				{"Jenkinsfile", CIPipelines, Added},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws := newWorkspace(t)
			if tc.before != nil {
				tc.before(t, ws)
			}
			before := take(t, ws)
			tc.during(t, ws)
			r, err := Compare(before, take(t, ws))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Changes, tc.want) {
				t.Fatalf("changes\n%+v\nwant\n%+v", r.Changes, tc.want)
			}
		})
	}
}

func TestReportUnreadableDirectory(t *testing.T) {
	requireGit(t)
	ws := newWorkspace(t)
	write(t, ws, "locked/x", "")
	before := take(t, ws)
	// Tests run as root, who reads any directory: fail the read instead.
	orig := readDir
	readDir = func(dir string) ([]fs.DirEntry, error) {
		if filepath.Base(dir) == "locked" {
			return nil, fs.ErrPermission
		}
		return orig(dir)
	}
	t.Cleanup(func() { readDir = orig })
	r, err := Compare(before, take(t, ws))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Change{{"locked", Unreadable, Added}}; !reflect.DeepEqual(r.Changes, want) {
		t.Fatalf("changes %+v", r.Changes)
	}
}

// TestReportGolden is the report as a user reads it in a log or pipe: no
// colour, stable order, agent-chosen names made harmless.
func TestReportGolden(t *testing.T) {
	requireGit(t)
	ws := newWorkspace(t)
	write(t, ws, ".husky/pre-commit", "npm test\n")
	before := take(t, ws)
	git(t, ws, "init", "-q", "vendor/x")
	write(t, ws, ".husky/pre-commit", "evil\n")
	write(t, ws, ".vscode/\x1b]52;c;eA==\a.json", "{}")
	write(t, ws, ".envrc", "evil\n")
	write(t, ws, "package.json", `{"scripts": {"test": "evil"}}`)
	remove(t, ws, ".github/workflows/ci.yml")
	r, err := Compare(before, take(t, ws))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := r.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join("testdata", "report.golden")
	if *update {
		if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("report:\n%s\nwant:\n%s", out.Bytes(), want)
	}
	if bytes.ContainsAny(out.Bytes(), "\x1b\a") {
		t.Fatal("the report holds terminal escapes")
	}
	out.Reset()
	if _, err := (&Report{}).WriteTo(&out); err != nil || out.Len() != 0 {
		t.Fatalf("empty report printed %q %v", out.String(), err)
	}
}

func TestSnapshotJSONAndCompareChecks(t *testing.T) {
	requireGit(t)
	ws := newWorkspace(t)
	s := take(t, ws)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, s) {
		t.Fatalf("round trip: %v", err)
	}
	other := take(t, newWorkspace(t))
	if _, err := Compare(s, other); err == nil || !strings.Contains(err.Error(), "compare snapshots of one workspace") {
		t.Fatalf("different workspaces: %v", err)
	}
	old := *s
	old.Version = 0
	if _, err := Compare(&old, s); err == nil || !strings.Contains(err.Error(), "snapshot format") {
		t.Fatalf("versions: %v", err)
	}
}
