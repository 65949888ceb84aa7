package config

import (
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Default settings, used for every key a file leaves out.
const (
	// DefaultBase is the base image when neither base, image nor build is set.
	DefaultBase = "docker.io/library/debian:bookworm-slim"
	// DefaultAgent is the agent's name, and its command.
	DefaultAgent = "claude"
	// ClaudeCodeVersion is the Claude Code release the default install
	// pins: the one whose hosts and environment paude's defaults were
	// measured against (tests/fakeapi/NOTES.md) and its tests run. Set
	// agent.install to install another.
	ClaudeCodeVersion = "2.1.332"
	// DefaultAgentInstall installs Claude Code: Node.js and npm from the
	// distribution when the base image has no npm, then the npm package
	// at ClaudeCodeVersion (its install scripts fetch the native binary).
	DefaultAgentInstall = `set -eu
if ! command -v npm >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates nodejs npm
  rm -rf /var/lib/apt/lists/*
fi
npm install -g @anthropic-ai/claude-code@` + ClaudeCodeVersion + `
npm cache clean --force
`
	DefaultRequestCPU    = "1"
	DefaultRequestMemory = "4Gi"
	DefaultLimitCPU      = "4"
	DefaultLimitMemory   = "8Gi"
	DefaultWorkspaceSize = "10Gi"
	// The cluster proxy's defaults, from squid's measured use (make
	// bench-proxy; docs/CONFIGURATION.md): a limit well above its peak
	// under parallel downloads, a request near its idle size.
	DefaultProxyRequestCPU    = "50m"
	DefaultProxyRequestMemory = "64Mi"
	DefaultProxyLimitCPU      = "1"
	DefaultProxyLimitMemory   = "512Mi"
	DefaultIdleTimeout        = 4 * time.Hour
	DefaultMaxLifetime        = 24 * time.Hour
	DefaultStartTimeout       = 5 * time.Minute
	DefaultSyncMethod         = SyncAuto
)

// Sync methods.
const (
	SyncAuto     = "auto"
	SyncDevSpace = "devspace"
	SyncNative   = "native"
)

// DefaultYoloArgs returns the arguments --yolo adds to Claude Code.
func DefaultYoloArgs() []string {
	return []string{"--dangerously-skip-permissions"}
}

// DefaultSyncExclude returns the patterns never synced when sync.exclude
// is not set.
func DefaultSyncExclude() []string {
	return []string{"node_modules", ".venv", "__pycache__"}
}

// Defaults returns the configuration used when a workspace has no file,
// and the starting point every file is applied to. workspace should be
// absolute.
func Defaults(workspace string) *Config {
	return &Config{
		Kind:      KindNone,
		Workspace: workspace,
		Base:      DefaultBase,
		Venv:      Venv{Mode: VenvAuto},
		Agent: Agent{
			Name:     DefaultAgent,
			Command:  DefaultAgent,
			YoloArgs: DefaultYoloArgs(),
			Install:  DefaultAgentInstall,
		},
		Backend: BackendSettings{
			Resources: Resources{
				Requests: ResourceList{CPU: resource.MustParse(DefaultRequestCPU), Memory: resource.MustParse(DefaultRequestMemory)},
				Limits:   ResourceList{CPU: resource.MustParse(DefaultLimitCPU), Memory: resource.MustParse(DefaultLimitMemory)},
			},
			ProxyResources: Resources{
				Requests: ResourceList{CPU: resource.MustParse(DefaultProxyRequestCPU), Memory: resource.MustParse(DefaultProxyRequestMemory)},
				Limits:   ResourceList{CPU: resource.MustParse(DefaultProxyLimitCPU), Memory: resource.MustParse(DefaultProxyLimitMemory)},
			},
			Workspace:    WorkspaceVolume{Size: resource.MustParse(DefaultWorkspaceSize), KeepOnStop: true},
			StartTimeout: DefaultStartTimeout,
		},
		Session: Session{IdleTimeout: DefaultIdleTimeout, MaxLifetime: DefaultMaxLifetime},
		Sync:    Sync{Method: DefaultSyncMethod, Exclude: DefaultSyncExclude()},
	}
}
