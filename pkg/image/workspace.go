package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/paude-dev/paude/pkg/config"
)

// DefaultPackages are the Debian packages every agent image gets, before
// the project's own.
var DefaultPackages = []string{"tmux", "git", "ca-certificates", "curl", "procps", "less"}

// Agent image files, as named in the embedded file system and in the build
// context.
const (
	workspaceTemplate = "paude/Containerfile.tmpl"
	entrypointAsset   = "paude/entrypoint.sh"
	tmuxConfAsset     = "paude/tmux.conf"
	entrypointFile    = "entrypoint.sh"
	tmuxConfFile      = "tmux.conf"
	helperFile        = "paude"
	pipDir            = "pip/"
)

// pyprojectDeps prints a pyproject.toml's [project] dependencies, one a
// line (Python 3.11+ has tomllib).
const pyprojectDeps = `import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"].get("dependencies", [])))`

// imageConfig is the part of config.Config that shapes the agent image, in
// a canonical form (sorted, deduplicated). Runtime settings (env, setup,
// network, resources, session limits, sync, venv) are left out on purpose:
// changing them must not rebuild the image.
type imageConfig struct {
	Base       string            `json:"base,omitempty"`
	BuildArgs  map[string]string `json:"buildArgs,omitempty"`
	UserBuild  bool              `json:"userBuild,omitempty"`
	Packages   []string          `json:"packages"`
	PipInstall bool              `json:"pipInstall,omitempty"`
	Command    string            `json:"command"`
	Args       []string          `json:"args"`
	YoloArgs   []string          `json:"yoloArgs"`
	Install    string            `json:"install"`
}

// workspaceData fills the Containerfile template. Every field is already
// quoted or checked: the template only places them.
type workspaceData struct {
	From            string
	NoAptMessage    string
	Packages        []string
	AgentInstall    string
	PipFile         string
	PyprojectScript string
	ConfigHash      string
	AgentCmd        string
	AgentArgs       string
	AgentYoloArgs   string
	// HelperPath is where the image carries the sync helper; "" for an
	// image without one.
	HelperPath string
}

// WorkspaceRecipe returns the build recipe of the agent image for cfg: the
// generated Containerfile, the entrypoint and tmux.conf, and, with
// pip_install, the workspace's requirements.txt or pyproject.toml. When cfg
// has a user build, UserBuild is set and the Containerfile starts FROM its
// tag. The tag hashes every build input; settings that only matter at run
// time do not change it. WorkspaceRecipe reads files (the user build context,
// the pip file) but changes nothing.
func WorkspaceRecipe(cfg *config.Config) (*Recipe, error) {
	return workspaceRecipe(cfg, nil)
}

// ClusterWorkspaceRecipe is WorkspaceRecipe for a cluster session: the
// same image plus helper, a Linux build of paude for the image's
// architecture, at HelperPath (root's, mode 0755, so the agent cannot
// replace it there), where workspace sync runs it as `paude
// __sync-agent`. The helper is a build input like any other: a new paude
// gives a new tag, so its image is built again (only the last layer,
// where the helper is copied). Podman sessions mount the workspace and
// need no helper.
func ClusterWorkspaceRecipe(cfg *config.Config, helper []byte) (*Recipe, error) {
	if len(helper) == 0 {
		return nil, errors.New("a cluster session's image needs the sync helper (a Linux build of paude), and none was given")
	}
	return workspaceRecipe(cfg, helper)
}

// workspaceRecipe builds the recipe, with the sync helper when helper is
// not nil.
func workspaceRecipe(cfg *config.Config, helper []byte) (*Recipe, error) {
	if cfg == nil {
		return nil, errors.New("no configuration given for the workspace image")
	}
	ic, err := canonicalImageConfig(cfg)
	if err != nil {
		return nil, err
	}
	d := newDigest(WorkspaceName)
	icJSON, err := json.Marshal(ic)
	if err != nil {
		return nil, fmt.Errorf("failed to encode the image configuration: %w", err)
	}
	d.add("config", icJSON)
	configHash := newDigest("config")
	configHash.add("config", icJSON)

	recipe := &Recipe{Name: WorkspaceName, Files: map[string][]byte{}}
	from := string(cfg.Base)
	if cfg.Build != nil {
		if recipe.UserBuild, err = userBuildRecipe(cfg.Build); err != nil {
			return nil, err
		}
		from = recipe.UserBuild.Tag
	}
	d.add("from", []byte(from))

	data, err := workspaceTemplateData(ic, from, configHash.sum())
	if err != nil {
		return nil, err
	}
	for asset, file := range map[string]string{entrypointAsset: entrypointFile, tmuxConfAsset: tmuxConfFile} {
		if recipe.Files[file], err = readAsset(asset); err != nil {
			return nil, err
		}
	}
	if cfg.PipInstall {
		name, content, err := pipFile(cfg.Workspace)
		if err != nil {
			return nil, err
		}
		recipe.Files[pipDir+name] = content
		data.PipFile = name
		if name == "pyproject.toml" {
			if data.PyprojectScript, err = shellQuote(pyprojectDeps); err != nil {
				return nil, err
			}
		}
	}
	if helper != nil {
		recipe.Files[helperFile] = helper
		data.HelperPath = HelperPath
	}
	if recipe.Containerfile, err = renderWorkspace(data); err != nil {
		return nil, err
	}
	d.add("containerfile", recipe.Containerfile)
	addFiles(d, recipe.Files)
	recipe.Tag = d.tag(WorkspaceName)
	return recipe, nil
}

// canonicalImageConfig checks the image settings of cfg again (the Go
// types let anything through) and puts them in canonical form.
func canonicalImageConfig(cfg *config.Config) (*imageConfig, error) {
	ic := &imageConfig{
		PipInstall: cfg.PipInstall,
		Command:    cfg.Agent.Command,
		Args:       append([]string{}, cfg.Agent.Args...),
		YoloArgs:   append([]string{}, cfg.Agent.YoloArgs...),
		Install:    cfg.Agent.Install,
	}
	switch {
	case cfg.Build != nil:
		ic.UserBuild = true
		ic.BuildArgs = cfg.Build.Args
	case cfg.Base == "":
		return nil, errors.New("the configuration names no base image and no build: set base (or image/build in devcontainer.json)")
	default:
		if err := checkImageRef(string(cfg.Base)); err != nil {
			return nil, err
		}
		ic.Base = string(cfg.Base)
	}
	if err := checkCommand(cfg.Agent.Command); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range DefaultPackages {
		seen[p] = true
	}
	var extra []string
	for _, p := range cfg.Packages {
		if err := checkPackage(p); err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	ic.Packages = append(append([]string{}, DefaultPackages...), extra...)
	return ic, nil
}

// workspaceTemplateData quotes every value the Containerfile needs.
func workspaceTemplateData(ic *imageConfig, from, configHash string) (*workspaceData, error) {
	if err := checkImageRef(from); err != nil {
		return nil, err
	}
	data := &workspaceData{From: from, ConfigHash: configHash}
	var err error
	msg := fmt.Sprintf("paude: the base image %s has no apt-get: paude needs a Debian or Ubuntu based image", from)
	if data.NoAptMessage, err = shellQuote(msg); err != nil {
		return nil, err
	}
	for _, p := range ic.Packages {
		q, err := shellQuote(p)
		if err != nil {
			return nil, err
		}
		data.Packages = append(data.Packages, q)
	}
	if ic.Install != "" {
		if data.AgentInstall, err = execForm("/bin/sh", "-ec", ic.Install); err != nil {
			return nil, fmt.Errorf("failed to encode the agent install script: %w", err)
		}
	}
	if data.AgentCmd, err = envQuote(ic.Command); err != nil {
		return nil, fmt.Errorf("agent command: %w", err)
	}
	args, err := encodeArgs(ic.Args)
	if err != nil {
		return nil, fmt.Errorf("agent args: %w", err)
	}
	yolo, err := encodeArgs(ic.YoloArgs)
	if err != nil {
		return nil, fmt.Errorf("agent yolo args: %w", err)
	}
	data.AgentArgs, _ = envQuote(args)
	data.AgentYoloArgs, _ = envQuote(yolo)
	return data, nil
}

// renderWorkspace fills the Containerfile template; a pure function.
func renderWorkspace(data *workspaceData) ([]byte, error) {
	src, err := readAsset(workspaceTemplate)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New(workspaceTemplate).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("failed to parse %s: %w", workspaceTemplate, err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("failed to render %s: %w", workspaceTemplate, err)
	}
	return b.Bytes(), nil
}

// pipFile returns the workspace file pip_install installs from:
// requirements.txt, else pyproject.toml.
func pipFile(workspace string) (string, []byte, error) {
	if workspace == "" {
		return "", nil, errors.New("pip_install is set but the configuration has no workspace directory")
	}
	for _, name := range []string{"requirements.txt", "pyproject.toml"} {
		p := filepath.Join(workspace, name)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("failed to read %s for pip_install: %w", name, err)
		}
		// A link could point anywhere on the host (~/.ssh, /proc/self/environ)
		// and its target would end up in an image layer.
		if !fi.Mode().IsRegular() {
			return "", nil, fmt.Errorf("%s is not a regular file (a symlink?): pip_install reads only a real file inside the workspace", p)
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return "", nil, fmt.Errorf("failed to read %s for pip_install: %w", name, err)
		}
		return name, content, nil
	}
	return "", nil, fmt.Errorf("pip_install is set but %s has neither requirements.txt nor pyproject.toml: add one, or turn pip_install off", workspace)
}

// addFiles records build-context files in name order.
func addFiles(d *digest, files map[string][]byte) {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		d.add("file", []byte(name))
		d.add("content", files[name])
	}
}

// userBuildRecipe hashes a user Dockerfile build: the Dockerfile, every file
// of its context, and the build arguments.
func userBuildRecipe(b *config.Build) (*UserBuild, error) {
	if b.Dockerfile == "" || b.Context == "" {
		return nil, errors.New("the user build needs both a Dockerfile and a context directory")
	}
	if !filepath.IsAbs(b.Dockerfile) || !filepath.IsAbs(b.Context) {
		return nil, fmt.Errorf("the user build paths must be absolute (Dockerfile %q, context %q)", b.Dockerfile, b.Context)
	}
	for k := range b.Args {
		if k == "" || hasControl(k) || strings.ContainsAny(k, "= ") {
			return nil, fmt.Errorf("build argument name %q is not a variable name: use letters, digits and '_'", k)
		}
	}
	d := newDigest(UserBaseName)
	if err := d.addFile("dockerfile", b.Dockerfile); err != nil {
		return nil, fmt.Errorf("failed to read the Dockerfile: %w", err)
	}
	d.addMap("args", b.Args)
	if err := d.addContext(b.Context); err != nil {
		return nil, err
	}
	args := make(map[string]string, len(b.Args))
	for k, v := range b.Args {
		args[k] = v
	}
	return &UserBuild{Dockerfile: b.Dockerfile, Context: b.Context, Args: args, Tag: d.tag(UserBaseName)}, nil
}
