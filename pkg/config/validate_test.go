package config

import (
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// TestValidateProgrammatic checks values set by a program (flags, other
// packages) rather than read from a file: they are still rejected, named
// by their paude.json key.
func TestValidateProgrammatic(t *testing.T) {
	ws := t.TempDir()
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"relative workspace", func(c *Config) { c.Workspace = "rel" }, `workspace: "rel" is not an absolute path`},
		{"base and build", func(c *Config) { c.Build = &Build{} }, `base: set either base or build, not both`},
		{"missing dockerfile", func(c *Config) {
			c.Base, c.Build = "", &Build{Dockerfile: filepath.Join(ws, "Dockerfile"), Context: ws}
		}, `build.dockerfile: "` + filepath.Join(ws, "Dockerfile") + `" does not exist`},
		{"context is a file", func(c *Config) {
			c.Base, c.Build = "", &Build{Dockerfile: ws, Context: ws}
		}, `build.dockerfile: "` + ws + `" is not a file`},
		{"venv mode", func(c *Config) { c.Venv.Mode = "always" }, `venv: "always" is not a venv mode: use "auto", "none" or "list"`},
		{"nul in env", func(c *Config) { c.Env = map[string]string{"A": "x\x00y"} }, `env.A: must not contain a NUL character`},
		{"agent name", func(c *Config) { c.Agent.Name = "Claude Code" }, `agent.name: "Claude Code" is not a valid name: use lowercase letters, digits and '-'`},
		{"negative idle", func(c *Config) { c.Session.IdleTimeout = -time.Minute }, `session.idleTimeout: "-1m0s" is negative: use a positive duration, or "0" for never`},
		{"zero start timeout", func(c *Config) { c.Backend.StartTimeout = 0 }, `backend.startTimeout: must be greater than zero, e.g. "5m"`},
		{"limit below default request", func(c *Config) { c.Backend.Resources.Limits.Memory = resource.MustParse("1Gi") },
			`backend.resources.limits.memory: the memory request "4Gi" is greater than the memory limit "1Gi": lower the request or raise the limit`},
		{"domain", func(c *Config) { c.Network.AllowedDomains = []string{"*"} },
			`network.allowedDomains[0]: "*" is not a domain (a whole top-level domain, or a name without a dot)` + domainHint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults(ws)
			tt.change(c)
			err := c.Validate()
			if err == nil || err.Error() != tt.want {
				t.Errorf("Validate() = %v, want %s", err, tt.want)
			}
		})
	}
}

// TestValidateKeepsPositions changes a loaded Config and checks that a
// problem is still reported at the value's place in the file.
func TestValidateKeepsPositions(t *testing.T) {
	ws := writeFiles(t, map[string]string{"paude.json": "{\n  \"packages\": [\"make\", \"gcc\"],\n}\n"})
	c, err := Load(ws)
	if err != nil {
		t.Fatal(err)
	}
	c.Packages[1] = "gcc;id"
	want := filepath.Join(ws, "paude.json") + `:2:24: packages[1]: "gcc;id" is not a Debian package name: write a name like "gcc", optionally pinned like "curl=7.88.1-10"`
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %s", err, want)
	}
}
