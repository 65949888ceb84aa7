package podman

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/hostrun"
	"github.com/paude-dev/paude/pkg/image"
)

// startPlan is every object one start builds, creates or reuses, worked
// out before anything runs: a dry run prints it, a start applies it.
// Only what podman alone knows is left open: whether an image, volume or
// proxy already exists, and the proxy's address.
type startPlan struct {
	ID        string
	Workspace string
	// Images are built in order unless their tag exists (a user
	// Dockerfile's image before the agent image built on it).
	Images []imageStep
	// Proxy is the proxy the agent needs, nil with --allow-network; the
	// session's network is made for it.
	Proxy *proxyStep
	// Git is the session's own repository, nil when the workspace is no
	// repository: its volume is among Volumes and seeded before the agent
	// starts.
	Git *gitBoundary
	// Snapshot is the workspace's host-run files before the session, kept
	// until it stops, for the report on detach and stop.
	Snapshot *hostrun.Snapshot
	// Volumes are made unless they exist.
	Volumes []volumeSpec
	// Agent is the session's container; its ProxyIP is filled in when
	// the proxy is known.
	Agent agentSpec
	// Home is copied into the agent's HOME before it starts.
	Home homeContent
	// Notes are lines for the user (a lowered CPU limit).
	Notes []string
}

// imageStep is one image build a start needs.
type imageStep struct {
	Recipe *image.Recipe
	// Rebuild builds even when the tag exists, without podman's cache.
	Rebuild bool
}

// proxyStep is the proxy of a start: its container and its squid.conf.
type proxyStep struct {
	Spec proxySpec
	// Conf is the rendered squid.conf, written to Spec.ConfFile when
	// the proxy is (re)started.
	Conf []byte
	// Domains are the allowed domains, for progress lines.
	Domains []string
}

// volumeSpec is a named volume a session mounts.
type volumeSpec struct {
	Name      string
	Role      string
	Workspace string
	// SessionID is set for a volume of one session (its repository).
	SessionID string
}

// planInput is everything a plan is made of, gathered from the machine
// (files, the host's environment) before planning; planning itself
// reads and runs nothing.
type planInput struct {
	ID        string
	CreatedAt time.Time
	Spec      backend.SessionSpec
	// Workspace is the checked, absolute, clean workspace path.
	Workspace string
	HostCPUs  int
	Rootless  bool
	// User is the agent's --user.
	User string
	// Venvs are the workspace-relative directories to shadow.
	Venvs []string
	// Git is the session's git boundary, nil without a repository.
	Git *gitBoundary
	// Snapshot is the workspace's host-run files now; its ReadOnly paths
	// are mounted read-only.
	Snapshot  *hostrun.Snapshot
	HomeFiles []backend.HomeFile
	Getenv    func(string) string
	Opts      Options
	// DryRun plans for a dry run: a start's refusals become notes.
	DryRun bool
}

// planStart works out a start from its inputs. It is a pure function.
func planStart(in planInput) (*startPlan, error) {
	spec, cfg := in.Spec, in.Spec.Config
	p := &startPlan{ID: in.ID, Workspace: in.Workspace}

	agentImage := spec.Image
	if agentImage == "" {
		recipe, err := image.WorkspaceRecipe(cfg)
		if err != nil {
			return nil, fmt.Errorf("failed to prepare the workspace image: %w", err)
		}
		p.Images = append(p.Images, imageStep{Recipe: recipe, Rebuild: spec.Rebuild})
		agentImage = recipe.Tag
	}
	own := backend.EntrypointEnv(in.ID, spec, in.Workspace, image.StateDir)
	if !spec.AllowNetwork {
		backend.AddProxyEnv(own)
	}
	env := backend.NewAgentEnv(cfg, in.Getenv, own)
	note, err := backend.CheckProvider(cfg, env, in.HomeFiles)
	switch {
	case err != nil && !in.DryRun:
		return nil, err
	case err != nil:
		p.Notes = append(p.Notes, "Note: a start would be refused: "+err.Error())
	case note != "":
		p.Notes = append(p.Notes, note)
	}

	network := in.Opts.ExternalNetwork
	if !spec.AllowNetwork {
		domains, err := backend.AllowedDomains(cfg.Network, env.Provider)
		if err != nil {
			return nil, err
		}
		recipe, err := image.ProxyRecipe(cfg)
		if err != nil {
			return nil, fmt.Errorf("failed to prepare the proxy image: %w", err)
		}
		p.Images = append(p.Images, imageStep{Recipe: recipe, Rebuild: spec.Rebuild})
		conf, err := image.SquidConf(image.SquidOptions{
			AllowedDomains: domains,
			Port:           image.ProxyPort,
			HostsFile:      len(in.Opts.ProxyHosts) > 0,
		})
		if err != nil {
			return nil, fmt.Errorf("failed to render squid.conf from network.allowedDomains: %w", err)
		}
		allowlistHash, err := image.AllowlistHash(domains)
		if err != nil {
			return nil, fmt.Errorf("failed to render squid.conf from network.allowedDomains: %w", err)
		}
		ps := proxySpec{Image: recipe.Tag, ExternalNetwork: in.Opts.ExternalNetwork, AllowlistHash: allowlistHash,
			Hosts: in.Opts.ProxyHosts, DNS: in.Opts.ProxyDNS, PullPolicy: in.Opts.PullPolicy}
		ps.ConfigHash = proxyConfigHash(conf, ps)
		ps.ConfFile = filepath.Join(in.Opts.StateDir, "proxy", "squid-"+ps.ConfigHash+".conf")
		p.Proxy = &proxyStep{Spec: ps, Conf: conf, Domains: domains}
		network = sessionNetwork(in.ID)
	}

	p.Volumes = append(p.Volumes, volumeSpec{Name: stateVolume(in.Workspace), Role: backend.RoleState, Workspace: in.Workspace})
	for _, d := range in.Venvs {
		p.Volumes = append(p.Volumes, volumeSpec{Name: venvVolume(in.Workspace, d), Role: backend.RoleVenv, Workspace: in.Workspace})
	}
	mounts := workspaceMounts(in.Workspace, in.Venvs)
	if in.Git != nil {
		p.Git = in.Git
		p.Volumes = append(p.Volumes, gitVolumeSpec(in.ID, in.Workspace))
		mounts = append(mounts, in.Git.mounts(in.Workspace)...)
	}
	ro, err := readOnlyMounts(in.Workspace, in.Snapshot)
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, ro...)
	p.Snapshot = in.Snapshot

	lim, note := limitsFor(cfg.Backend.Resources, in.HostCPUs)
	if note != "" {
		p.Notes = append(p.Notes, "Note: "+note)
	}
	if len(env.Passed) > 0 {
		own[image.EnvEnvFile] = image.HomeDir + "/" + envFileRel
	}
	p.Home = homeContent{Files: in.HomeFiles, Env: env.Passed}
	p.Agent = agentSpec{
		ID: in.ID, Workspace: in.Workspace, Image: agentImage, CreatedAt: in.CreatedAt,
		User: in.User, KeepID: in.Rootless, Network: network, Env: own,
		Mounts:     mounts,
		Limits:     lim,
		PullPolicy: in.Opts.PullPolicy, AgentArgs: spec.AgentArgs,
	}
	if p.Proxy != nil {
		p.Agent.ProxyHash, p.Agent.AllowlistHash = p.Proxy.Spec.ConfigHash, p.Proxy.Spec.AllowlistHash
	}
	if p.Git != nil {
		p.Agent.GitDir = p.Git.GitDir
	}
	return p, nil
}
