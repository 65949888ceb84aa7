package config

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// The describe* types give the resolved configuration the shape and key
// names of paude.json, in a fixed order, for --dry-run output.
type describeView struct {
	File       string            `yaml:"file,omitempty"`
	Kind       string            `yaml:"kind"`
	Workspace  string            `yaml:"workspace"`
	Base       string            `yaml:"base,omitempty"`
	Build      *describeBuild    `yaml:"build,omitempty"`
	Packages   []string          `yaml:"packages"`
	Setup      string            `yaml:"setup"`
	Venv       any               `yaml:"venv"`
	PipInstall bool              `yaml:"pip_install"`
	Env        map[string]string `yaml:"env"`
	Agent      describeAgent     `yaml:"agent"`
	Network    describeNetwork   `yaml:"network"`
	Backend    describeBackend   `yaml:"backend"`
	Session    describeSession   `yaml:"session"`
	Sync       describeSync      `yaml:"sync"`
}

type describeBuild struct {
	Dockerfile string            `yaml:"dockerfile"`
	Context    string            `yaml:"context"`
	Args       map[string]string `yaml:"args,omitempty"`
}

type describeAgent struct {
	Name     string   `yaml:"name"`
	Command  string   `yaml:"command"`
	Args     []string `yaml:"args"`
	YoloArgs []string `yaml:"yoloArgs"`
	Install  string   `yaml:"install"`
}

type describeNetwork struct {
	// AllowedDomains is the list, or a sentence when the file sets none.
	AllowedDomains any  `yaml:"allowedDomains"`
	ExtendDefaults bool `yaml:"extendDefaults"`
	ClusterDNS     bool `yaml:"clusterDNS"`
}

// providerHostsNote stands for an allowlist the configuration leaves to
// the model provider.
const providerHostsNote = "not set: the hosts of the model provider the host's environment selects"

// describeNetworkOf shows the network settings.
func describeNetworkOf(n Network) describeNetwork {
	d := describeNetwork{AllowedDomains: n.AllowedDomains, ExtendDefaults: n.ExtendDefaults, ClusterDNS: n.ClusterDNS}
	if !n.AllowedDomainsSet {
		d.AllowedDomains = providerHostsNote
	} else if n.AllowedDomains == nil {
		d.AllowedDomains = []string{}
	}
	return d
}

type describeResources struct {
	Requests describeList `yaml:"requests"`
	Limits   describeList `yaml:"limits"`
}

type describeList struct {
	CPU    string `yaml:"cpu"`
	Memory string `yaml:"memory"`
}

func describeQuantities(l ResourceList) describeList {
	return describeList{CPU: l.CPU.String(), Memory: l.Memory.String()}
}

type describeWorkspace struct {
	Size         string `yaml:"size"`
	StorageClass string `yaml:"storageClass"`
	KeepOnStop   bool   `yaml:"keepOnStop"`
}

type describeBackend struct {
	Resources    describeResources `yaml:"resources"`
	Proxy        describeResources `yaml:"proxyResources"`
	Workspace    describeWorkspace `yaml:"workspace"`
	Namespace    string            `yaml:"namespace"`
	Registry     string            `yaml:"registry"`
	Insecure     bool              `yaml:"registryInsecure"`
	Platform     string            `yaml:"platform"`
	StartTimeout string            `yaml:"startTimeout"`
}

type describeSession struct {
	IdleTimeout string `yaml:"idleTimeout"`
	MaxLifetime string `yaml:"maxLifetime"`
}

type describeSync struct {
	Method  string   `yaml:"method"`
	Exclude []string `yaml:"exclude"`
}

// Resolved returns the resolved settings as YAML, with paude.json's key
// names in a fixed order and every default filled in. Env values taken
// from the host with ${localEnv:...} are shown as written, not expanded,
// so that the output never carries a host secret. Warnings are not part of
// it: callers print them as diagnostics.
func (c *Config) Resolved() ([]byte, error) {
	v := describeView{
		File:       c.Path,
		Kind:       string(c.Kind),
		Workspace:  c.Workspace,
		Base:       string(c.Base),
		Packages:   c.Packages,
		Setup:      c.Setup,
		Venv:       c.Venv.Mode,
		PipInstall: c.PipInstall,
		Agent: describeAgent{
			Name: c.Agent.Name, Command: c.Agent.Command, Args: c.Agent.Args,
			YoloArgs: c.Agent.YoloArgs, Install: c.Agent.Install,
		},
		Network: describeNetworkOf(c.Network),
		Backend: describeBackend{
			Resources: describeResources{
				Requests: describeQuantities(c.Backend.Resources.Requests),
				Limits:   describeQuantities(c.Backend.Resources.Limits),
			},
			Proxy: describeResources{
				Requests: describeQuantities(c.Backend.ProxyResources.Requests),
				Limits:   describeQuantities(c.Backend.ProxyResources.Limits),
			},
			Workspace: describeWorkspace{
				Size: c.Backend.Workspace.Size.String(), StorageClass: c.Backend.Workspace.StorageClass,
				KeepOnStop: c.Backend.Workspace.KeepOnStop,
			},
			Namespace:    c.Backend.Namespace,
			Registry:     c.Backend.Registry,
			Insecure:     c.Backend.RegistryInsecure,
			Platform:     c.Backend.Platform,
			StartTimeout: FormatDuration(c.Backend.StartTimeout),
		},
		Session: describeSession{IdleTimeout: FormatDuration(c.Session.IdleTimeout), MaxLifetime: FormatDuration(c.Session.MaxLifetime)},
		Sync:    describeSync{Method: c.Sync.Method, Exclude: c.Sync.Exclude},
	}
	if c.Kind == KindNone {
		v.Kind = "none (defaults only)"
	}
	if c.Venv.Mode == VenvList {
		v.Venv = c.Venv.Dirs
	}
	v.Env = c.unexpanded("env", c.Env)
	if b := c.Build; b != nil {
		v.Build = &describeBuild{Dockerfile: c.relative(b.Dockerfile), Context: c.relative(b.Context)}
		if len(b.Args) > 0 {
			v.Build.Args = c.unexpanded("build.args", b.Args)
		}
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("failed to format the configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("failed to format the configuration: %w", err)
	}
	return out.Bytes(), nil
}

// Describe writes Resolved's YAML to w.
func (c *Config) Describe(w io.Writer) error {
	out, err := c.Resolved()
	if err != nil {
		return err
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("failed to write the configuration: %w", err)
	}
	return nil
}

// unexpanded returns m with each value that took ${localEnv:...} shown
// as written; key names m's place in c.templates.
func (c *Config) unexpanded(key string, m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, val := range m {
		if t, ok := c.templates[join(key, k)]; ok {
			val = t
		}
		out[k] = val
	}
	return out
}

// relative shows a path inside the workspace relative to it.
func (c *Config) relative(p string) string {
	if rel, err := filepath.Rel(c.Workspace, p); err == nil && within(c.Workspace, p) {
		return rel
	}
	return p
}
