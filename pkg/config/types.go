// Package config reads a project's paude.json or devcontainer.json (JSONC),
// fills in defaults and validates every value, reporting errors with the
// file, line and column of the offending value.
package config

import (
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// DetectionOrder lists the configuration file names Load looks for, in
// order (first found wins), relative to the workspace root.
var DetectionOrder = []string{
	".devcontainer/devcontainer.json",
	".devcontainer.json",
	"paude.json",
}

// Kind says which schema a file follows.
type Kind string

// Config file kinds.
const (
	KindNone         Kind = ""             // no file: defaults only
	KindPaude        Kind = "paude"        // paude.json
	KindDevcontainer Kind = "devcontainer" // devcontainer.json
)

// Config is a project's resolved configuration: parsed, validated, with
// defaults filled in. Backends and the image generator take it as is.
type Config struct {
	// Path is the absolute path of the file read, "" when none was found.
	Path string
	// Kind is the schema of Path.
	Kind Kind
	// Workspace is the absolute path of the project root.
	Workspace string

	// Base is the base image for the generated Containerfile
	// ("base" in paude.json; "image" in devcontainer.json).
	Base ImageRef
	// Build, when set, is a user Dockerfile built first; paude's layer
	// goes on top of its result.
	Build *Build
	// Packages are Debian packages added to the image.
	Packages []string
	// Setup runs once per workspace ("setup" / "postCreateCommand").
	Setup string
	// Venv lists directories (relative to the workspace) shadowed with an
	// empty volume; VenvAuto means detect ".venv" and "venv".
	Venv Venv
	// PipInstall installs requirements.txt / pyproject into the image.
	PipInstall bool
	// Env is set in the agent's environment ("env" / "containerEnv").
	Env map[string]string

	// Agent says which agent runs and how it is installed.
	Agent Agent
	// Network is the egress allowlist.
	Network Network
	// Backend holds per-backend settings.
	Backend BackendSettings
	// Session holds the idle and lifetime limits.
	Session Session
	// Sync holds workspace synchronisation settings.
	Sync Sync

	// Warnings are non-fatal findings (ignored devcontainer keys, ...),
	// each already prefixed with file:line:col.
	Warnings []string

	// origins says where each setting read from the file came from, keyed
	// by its paude.json path ("packages[2]", "backend.resources.limits.cpu"),
	// so that Validate can name the file, line and column of a bad value.
	origins map[string]origin
	// srcPath is Path as the caller spelled it, used in messages.
	srcPath string
	// templates keeps the unexpanded form of the env values and build args
	// that took ${localEnv:...}, keyed "env.NAME" and "build.args.NAME", so
	// that Describe never prints a host secret.
	templates map[string]string
}

// origin is the place of one value in a configuration file.
type origin struct {
	// name is the key path the user wrote ("customizations.paude.env.FOO",
	// "hostRequirements.cpus").
	name      string
	line, col int
	offset    int
}

// Build is a user Dockerfile build (devcontainer "build" or paude "build").
type Build struct {
	// Dockerfile is the absolute path of the Dockerfile.
	Dockerfile string
	// Context is the absolute path of the build context directory.
	Context string
	// Args are build arguments.
	Args map[string]string
}

// Venv is the venv shadowing setting.
type Venv struct {
	// Mode is "auto", "none" or "list".
	Mode string
	// Dirs are workspace-relative directories, used when Mode is "list".
	Dirs []string
}

// Venv modes.
const (
	VenvAuto = "auto"
	VenvNone = "none"
	VenvList = "list"
)

// Agent describes the coding agent run inside tmux.
type Agent struct {
	// Name is a short label ("claude").
	Name string
	// Command is the program started in the tmux session.
	Command string
	// Args are always passed to Command, before user args.
	Args []string
	// YoloArgs are added for --yolo.
	YoloArgs []string
	// Install is a shell snippet run as root in its own image layer to
	// install the agent; "" installs nothing (the base must provide it).
	Install string
}

// Network is the egress policy.
type Network struct {
	// AllowedDomains are the hostnames ("api.example.com") or suffixes
	// (".example.com") the configuration lists. Which hosts the proxy
	// lets through also depends on the model provider the host's
	// environment selects: backend.AllowedDomains decides.
	AllowedDomains []string
	// AllowedDomainsSet says the configuration set allowedDomains (an
	// empty list included). When it did not, the proxy allows exactly the
	// model provider's hosts.
	AllowedDomainsSet bool
	// ExtendDefaults adds the model provider's hosts to AllowedDomains.
	ExtendDefaults bool
	// ClusterDNS allows the agent to query cluster DNS (OpenShift only).
	ClusterDNS bool
}

// BackendSettings are the "backend" object.
type BackendSettings struct {
	Resources Resources
	// ProxyResources are the cluster proxy's requests and limits.
	ProxyResources Resources
	Workspace      WorkspaceVolume
	// Namespace is the Kubernetes namespace, "" = from kubeconfig.
	Namespace string
	// Registry is the registry images are pushed to, "" = detect.
	Registry string
	// RegistryInsecure turns TLS verification of the registry off.
	RegistryInsecure bool
	// Platform is the platform cluster images are built for
	// ("linux/arm64"), "" = the nodes' (or this machine's).
	Platform string
	// StartTimeout bounds the wait for a session's pod to become ready.
	StartTimeout time.Duration
}

// ImageRef is an image reference ("node:22-slim",
// "quay.io/org/img@sha256:...") that Validate has checked.
type ImageRef string

// Resources are the session's resource requests and limits, parsed and
// checked (positive, requests not above limits) by Load.
type Resources struct {
	Requests ResourceList
	Limits   ResourceList
}

// ResourceList is a CPU and memory pair.
type ResourceList struct {
	CPU    resource.Quantity
	Memory resource.Quantity
}

// WorkspaceVolume is the session's workspace volume (a PVC on OpenShift).
type WorkspaceVolume struct {
	Size         resource.Quantity
	StorageClass string
	KeepOnStop   bool
}

// Session holds the session limits. Zero means never.
type Session struct {
	IdleTimeout time.Duration
	MaxLifetime time.Duration
}

// Sync holds the workspace sync settings.
type Sync struct {
	// Method is "auto", "devspace" or "native".
	Method string
	// Exclude are gitignore-style patterns never synced.
	Exclude []string
}
