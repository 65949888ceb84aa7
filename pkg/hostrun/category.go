// Package hostrun reports what an agent changed among the workspace files
// that make the user's machine run code: git repositories and hooks, git
// configuration kept in the workspace, direnv files, editor and dev
// container settings, build scripts and CI pipelines.
//
// A Snapshot (Take) is cheap: one walk of the workspace that reads only
// the files that matter. Compare two of them, from before the session and
// from when it detaches or stops, for a Report. A Snapshot taken before
// the session also says which existing paths a backend that shares the
// workspace live (Podman) mounts read-only: those that the user's next git
// command runs or reads without being asked (ReadOnly).
package hostrun

// Category groups the files by how they make the host run code.
type Category string

// The categories, in the order a report lists them.
const (
	GitRepositories Category = "git repositories"
	GitHooks        Category = "git hooks"
	GitConfig       Category = "git configuration in the workspace"
	GitAttributes   Category = "git attributes and submodules"
	ShellEnv        Category = "shell environment"
	Editors         Category = "editor settings"
	DevContainers   Category = "dev containers and paude"
	BuildScripts    Category = "build scripts"
	CIPipelines     Category = "CI pipelines"
	Unreadable      Category = "unreadable directories"
)

// categories is the report order.
var categories = []Category{
	GitRepositories, GitHooks, GitConfig, GitAttributes, ShellEnv, Editors,
	DevContainers, BuildScripts, CIPipelines, Unreadable,
}

// Why is one line on why a change in the category matters.
var Why = map[Category]string{
	GitRepositories: "git uses a .git's config and hooks for every command run below it, your shell prompt's included",
	GitHooks:        "git runs these on your next commit, merge, checkout or push",
	GitConfig:       "your git configuration reads or runs these on every git command",
	GitAttributes:   "attributes pick the filter and diff programs git runs; git submodule fetches .gitmodules URLs",
	ShellEnv:        "direnv or mise runs these when you enter the directory, once you allow them",
	Editors:         "your editor runs tasks, tools and extensions named here when it opens the folder",
	DevContainers:   "a dev container's initializeCommand runs on your machine; paude.json configures the next session",
	BuildScripts:    "make and npm run these commands when you build",
	CIPipelines:     "CI runs these with your repository's secrets when you push",
	Unreadable:      "paude could not look inside; a .git or hook there would go unseen",
}

// fileRules are file names that matter wherever they are.
var fileRules = map[string]Category{
	".gitattributes":          GitAttributes,
	".gitmodules":             GitAttributes,
	".pre-commit-config.yaml": GitHooks,
	"lefthook.yml":            GitHooks,
	"lefthook.yaml":           GitHooks,
	".lefthook.yml":           GitHooks,
	".lefthook.yaml":          GitHooks,
	"lefthook-local.yml":      GitHooks,
	"lefthook-local.yaml":     GitHooks,
	".lefthook-local.yml":     GitHooks,
	".lefthook-local.yaml":    GitHooks,
	".lintstagedrc":           GitHooks,
	".lintstagedrc.json":      GitHooks,
	".lintstagedrc.yaml":      GitHooks,
	".lintstagedrc.yml":       GitHooks,
	".lintstagedrc.js":        GitHooks,
	".lintstagedrc.cjs":       GitHooks,
	".lintstagedrc.mjs":       GitHooks,
	"lint-staged.config.js":   GitHooks,
	"lint-staged.config.cjs":  GitHooks,
	"lint-staged.config.mjs":  GitHooks,
	".envrc":                  ShellEnv,
	"mise.toml":               ShellEnv,
	".mise.toml":              ShellEnv,
	".devcontainer.json":      DevContainers,
	"paude.json":              DevContainers,
	"Makefile":                BuildScripts,
	"makefile":                BuildScripts,
	"GNUmakefile":             BuildScripts,
	"package.json":            BuildScripts,
}

// dirRules are directories whose every file matters, wherever they are.
var dirRules = map[string]Category{
	".husky":        GitHooks,
	".githooks":     GitHooks,
	".lefthook":     GitHooks,
	".vscode":       Editors,
	".idea":         Editors,
	".devcontainer": DevContainers,
}

// topRules are CI files and directories that matter only at the top of
// the workspace, where CI services look for them.
var topRules = map[string]Category{
	".github/workflows":       CIPipelines,
	".github/actions":         CIPipelines,
	".gitlab-ci.yml":          CIPipelines,
	".gitlab":                 CIPipelines,
	".circleci":               CIPipelines,
	".buildkite":              CIPipelines,
	".travis.yml":             CIPipelines,
	"azure-pipelines.yml":     CIPipelines,
	"bitbucket-pipelines.yml": CIPipelines,
	".drone.yml":              CIPipelines,
	".woodpecker.yml":         CIPipelines,
	".woodpecker":             CIPipelines,
	".tekton":                 CIPipelines,
	"Jenkinsfile":             CIPipelines,
	"cloudbuild.yaml":         CIPipelines,
}

// hookTools are hook managers whose installed hooks read configuration
// from the worktree at every run: when a hook file contains one of
// markers, the configs that exist at the top of the workspace are mounted
// read-only.
var hookTools = []struct {
	markers []string
	configs []string
}{
	{markers: []string{"File generated by pre-commit", "pre_commit"}, configs: []string{".pre-commit-config.yaml"}},
	{markers: []string{"lefthook"}, configs: []string{
		"lefthook.yml", "lefthook.yaml", ".lefthook.yml", ".lefthook.yaml",
		"lefthook-local.yml", "lefthook-local.yaml", ".lefthook-local.yml", ".lefthook-local.yaml", ".lefthook",
	}},
	{markers: []string{"lint-staged"}, configs: []string{
		".lintstagedrc", ".lintstagedrc.json", ".lintstagedrc.yaml", ".lintstagedrc.yml", ".lintstagedrc.js",
		".lintstagedrc.cjs", ".lintstagedrc.mjs", "lint-staged.config.js", "lint-staged.config.cjs", "lint-staged.config.mjs",
	}},
}

// packageJSONKeys are the parts of package.json that run commands: npm
// scripts, and the hook managers configured there. Dependency changes do
// not count.
var packageJSONKeys = []string{"scripts", "husky", "simple-git-hooks", "lint-staged", "pre-commit", "gitHooks"}
