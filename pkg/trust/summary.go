package trust

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/paude-dev/paude/pkg/termfilter"
)

// Summary is what a workspace's configuration lets a session do, in the
// terms a user decides trust on. The caller fills it from the loaded
// configuration; Render shows it, and a later change shows as a diff of
// two renderings. Every string may be written by someone else, so
// rendering escapes what a terminal would act on.
type Summary struct {
	// AllowedDomains are the hosts the configuration lets the agent
	// reach through its proxy.
	AllowedDomains []string `json:"allowedDomains,omitempty"`
	// ProviderHosts says the agent also reaches the hosts of the model
	// provider the host's environment selects: the configuration sets no
	// allowlist, or extends the default one.
	ProviderHosts bool `json:"providerHosts,omitempty"`
	// ClusterDNS says the agent may query cluster DNS (OpenShift).
	ClusterDNS bool `json:"clusterDNS,omitempty"`
	// Env is the agent's environment as the file writes it: values keep
	// their ${localEnv:NAME} references, never the host's values.
	Env []Var `json:"env,omitempty"`
	// BaseImage is the image the agent image is built on, when the
	// project has no Dockerfile of its own.
	BaseImage string `json:"baseImage,omitempty"`
	// Build is the project's own Dockerfile build, nil when there is none.
	Build *Build `json:"build,omitempty"`
	// Packages are the Debian packages installed into the image.
	Packages []string `json:"packages,omitempty"`
	// PipInstall names the file pip installs into the image from
	// ("requirements.txt"), "" when pip_install is off.
	PipInstall string `json:"pipInstall,omitempty"`
	// Setup is the command run in the container once per workspace
	// ("setup", "postCreateCommand").
	Setup string `json:"setup,omitempty"`
	// AgentCommand is the agent's command line.
	AgentCommand []string `json:"agentCommand,omitempty"`
	// AgentInstall is the shell snippet that installs the agent in the
	// image build.
	AgentInstall string `json:"agentInstall,omitempty"`
	// Namespace is the Kubernetes namespace the configuration names, ""
	// when it leaves the choice to the kubeconfig.
	Namespace string `json:"namespace,omitempty"`
	// Registry is the registry images are pushed to, "" when detected.
	Registry string `json:"registry,omitempty"`
	// SyncMethod is sync.method when it names an engine that weakens
	// isolation ("devspace"), "" otherwise.
	SyncMethod string `json:"syncMethod,omitempty"`
}

// RiskySyncMethod is the sync.method a summary flags: DevSpace follows
// symlinks out of the workspace and applies what the pod sends without
// paude's checks.
const RiskySyncMethod = "devspace"

// Var is one environment variable or build argument.
type Var struct {
	Name string `json:"name"`
	// Value is as written in the configuration file.
	Value string `json:"value"`
	// HostVars are the host variables Value takes with ${localEnv:NAME}.
	HostVars []string `json:"hostVars,omitempty"`
}

// Build is a project's own Dockerfile build.
type Build struct {
	// Dockerfile is the Dockerfile's absolute path. Check hashes it and
	// shows its text in the summary.
	Dockerfile string `json:"dockerfile"`
	// Context is the build context directory's absolute path.
	Context string `json:"context"`
	// Args are the build arguments as written.
	Args []Var `json:"args,omitempty"`
	// Text is the Dockerfile's content (up to maxShownText bytes), taken
	// by Check from the bytes it hashes, so that what is shown is what is
	// trusted. Callers leave it empty.
	Text string `json:"text,omitempty"`
	// TextCut says Text is only the start of a longer file.
	TextCut bool `json:"textCut,omitempty"`
}

// maxShownText bounds the Dockerfile text a summary shows; the hash still
// covers the whole file.
const maxShownText = 64 << 10

// Render returns the summary as the lines a user reads, for the workspace
// at workspace and its configuration file configFile (both absolute).
func (s Summary) Render(workspace, configFile string) string {
	r := renderer{ws: workspace}
	r.line("Configuration file: %s", r.path(configFile))

	r.line("Network: the agent can reach, through its proxy:")
	if s.ProviderHosts {
		r.line("  the model provider's hosts (Anthropic, Vertex AI or Bedrock, as this machine's environment selects)")
		if len(s.AllowedDomains) > 0 {
			r.list(s.AllowedDomains, "")
		}
	} else {
		r.list(s.AllowedDomains, "no host")
	}
	if s.ClusterDNS {
		r.line("  and cluster DNS")
	}

	r.line("Environment of the agent:")
	r.vars("  ", s.Env)
	if host := hostVars(s); len(host) > 0 {
		r.line("Host variables passed in (${localEnv:...}): %s", r.join(host))
	}

	if b := s.Build; b != nil {
		r.line("Image: built from %s with context %s, then paude's layer on top", r.path(b.Dockerfile), r.path(b.Context))
		if len(b.Args) > 0 {
			r.line("  Build arguments:")
			r.vars("    ", b.Args)
		}
		r.line("  Dockerfile:")
		r.text(b.Text)
		if b.TextCut {
			r.line("    (only the first %d bytes are shown)", len(b.Text))
		}
	} else {
		r.line("Image: %s, then paude's layer on top", r.value(s.BaseImage))
	}
	r.line("Packages installed: %s", r.join(s.Packages))
	if s.PipInstall != "" {
		r.line("pip install from: %s", r.value(s.PipInstall))
	}
	r.line("Setup command (runs in the container once per workspace):")
	r.text(s.Setup)
	r.line("Agent command: %s", r.join(s.AgentCommand))
	if s.AgentInstall != "" {
		r.line("Agent install (runs in the image build):")
		r.text(s.AgentInstall)
	}
	r.line("Namespace: %s", r.orNone(s.Namespace, "from the kubeconfig"))
	r.line("Registry: %s", r.orNone(s.Registry, "detected"))
	if s.SyncMethod != "" {
		r.line("Workspace sync (cluster sessions): %s", r.value(s.SyncMethod))
		if s.SyncMethod == RiskySyncMethod {
			r.line("  RISKY: DevSpace follows symlinks out of the workspace and applies what the pod sends unchecked:")
			r.line("  an agent in the pod can write files outside your workspace. paude's native engine checks everything.")
		}
	}
	return r.b.String()
}

// hostVars lists the host variables the summary takes, once each.
func hostVars(s Summary) []string {
	var names []string
	seen := map[string]bool{}
	add := func(vars []Var) {
		for _, v := range vars {
			for _, h := range v.HostVars {
				if !seen[h] {
					seen[h] = true
					names = append(names, h)
				}
			}
		}
	}
	add(s.Env)
	if s.Build != nil {
		add(s.Build.Args)
	}
	return names
}

// renderer writes summary lines, escaping every value.
type renderer struct {
	b  strings.Builder
	ws string
}

func (r *renderer) line(format string, args ...any) {
	fmt.Fprintf(&r.b, format, args...)
	r.b.WriteByte('\n')
}

// value shows one agent-writable value on one line.
func (r *renderer) value(s string) string {
	if s == "" {
		return "(none)"
	}
	return termfilter.Printable(s)
}

func (r *renderer) orNone(s, none string) string {
	if s == "" {
		return "(" + none + ")"
	}
	return termfilter.Printable(s)
}

func (r *renderer) join(items []string) string {
	if len(items) == 0 {
		return "(none)"
	}
	shown := make([]string, len(items))
	for i, it := range items {
		shown[i] = termfilter.Printable(it)
	}
	return strings.Join(shown, " ")
}

func (r *renderer) list(items []string, none string) {
	if len(items) == 0 {
		r.line("  (%s)", none)
	}
	for _, it := range items {
		r.line("  %s", termfilter.Printable(it))
	}
}

func (r *renderer) vars(indent string, vars []Var) {
	if len(vars) == 0 {
		r.line("%s(none)", indent)
	}
	for _, v := range vars {
		r.line("%s%s=%s", indent, termfilter.Printable(v.Name), termfilter.Printable(v.Value))
	}
}

// text shows a multi-line value, one quoted line each, so that a diff
// shows exactly which lines changed.
func (r *renderer) text(s string) {
	if s == "" {
		r.line("    (none)")
		return
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		r.line("    | %s", termfilter.Printable(l))
	}
}

// path shows a path relative to the workspace when it is inside it.
func (r *renderer) path(p string) string {
	if rel, ok := relativeTo(r.ws, p); ok {
		return termfilter.Printable(rel)
	}
	return termfilter.Printable(p)
}

// relativeTo returns p relative to root, and whether p is inside root.
func relativeTo(root, p string) (string, bool) {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
