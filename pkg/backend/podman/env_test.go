package podman

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

func TestAgentEnv(t *testing.T) {
	host := map[string]string{
		"CLAUDE_CODE_USE_VERTEX":      "1",
		"ANTHROPIC_VERTEX_PROJECT_ID": "proj",
		"CLOUD_ML_REGION":             "us-east5",
		"GOOGLE_CLOUD_PROJECT":        "", // unset-like: not passed
		"SECRET_TOKEN":                "never-passed",
	}
	getenv := func(k string) string { return host[k] }
	base := func() *config.Config {
		c := config.Defaults("/w")
		c.Session = config.Session{IdleTimeout: 4 * time.Hour, MaxLifetime: 1500 * time.Millisecond}
		return c
	}
	proxied := map[string]string{
		"HTTP_PROXY": "http://paude-proxy:3128", "HTTPS_PROXY": "http://paude-proxy:3128",
		"http_proxy": "http://paude-proxy:3128", "https_proxy": "http://paude-proxy:3128",
		"NO_PROXY": "localhost,127.0.0.1,::1", "no_proxy": "localhost,127.0.0.1,::1",
	}
	common := map[string]string{
		"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "proj", "CLOUD_ML_REGION": "us-east5",
		"HOME": "/home/paude", "PAUDE_WORKSPACE": "/w", "PAUDE_STATE_DIR": "/var/lib/paude-state",
		"PAUDE_IDLE_TIMEOUT": "14400", "PAUDE_MAX_LIFETIME": "2",
	}
	with := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			maps.Copy(out, m)
		}
		return out
	}
	tests := []struct {
		name string
		cfg  func(*config.Config)
		opts backend.StartOptions
		want map[string]string
	}{
		{"proxied defaults", nil, backend.StartOptions{}, with(common, proxied)},
		{"open network has no proxy variables", nil, backend.StartOptions{AllowNetwork: true}, common},
		{"yolo and setup", func(c *config.Config) { c.Setup = "npm ci" }, backend.StartOptions{Yolo: true},
			with(common, proxied, map[string]string{"PAUDE_YOLO": "1", "PAUDE_SETUP": "npm ci"})},
		{"config env overrides pass-through but not paude's own",
			func(c *config.Config) {
				c.Env = map[string]string{"CLOUD_ML_REGION": "europe-west4", "FOO": "bar",
					"HTTPS_PROXY": "http://evil:1", "PAUDE_YOLO": "1", "PAUDE_SETUP": "rm -rf /"}
			},
			backend.StartOptions{},
			with(common, proxied, map[string]string{"CLOUD_ML_REGION": "europe-west4", "FOO": "bar"})},
		{"timeouts of zero mean never",
			func(c *config.Config) { c.Session = config.Session{} }, backend.StartOptions{AllowNetwork: true},
			with(common, map[string]string{"PAUDE_IDLE_TIMEOUT": "0", "PAUDE_MAX_LIFETIME": "0"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			if tt.cfg != nil {
				tt.cfg(c)
			}
			got := agentEnv(c, tt.opts, "/w", getenv)
			if !maps.Equal(got, tt.want) {
				t.Errorf("env mismatch\n got: %v\nwant: %v", got, tt.want)
			}
		})
	}
}

func TestLimitsFor(t *testing.T) {
	tests := []struct {
		name     string
		res      config.Resources
		cpus     int
		want     limits
		wantNote string
		wantErr  string
	}{
		{"defaults on a 2-CPU machine", config.Resources{
			Requests: config.ResourceList{CPU: "1", Memory: "4Gi"},
			Limits:   config.ResourceList{CPU: "4", Memory: "8Gi"}}, 2,
			limits{Pids: 4096, MemoryBytes: 8 << 30, MemoryReservation: 4 << 30, CPUs: "2", CPUShares: 1024},
			"cpu limit 4 lowered to the 2 CPUs podman has", ""},
		{"millicores and decimal memory", config.Resources{
			Requests: config.ResourceList{CPU: "250m", Memory: "500M"},
			Limits:   config.ResourceList{CPU: "1500m", Memory: "1G"}}, 8,
			limits{Pids: 4096, MemoryBytes: 1e9, MemoryReservation: 5e8, CPUs: "1.5", CPUShares: 256}, "", ""},
		{"request above limit is capped", config.Resources{
			Requests: config.ResourceList{Memory: "2Gi", CPU: "1m"},
			Limits:   config.ResourceList{Memory: "1Gi"}}, 4,
			limits{Pids: 4096, MemoryBytes: 1 << 30, MemoryReservation: 1 << 30, CPUShares: 2}, "", ""},
		{"nothing set", config.Resources{}, 4, limits{Pids: 4096}, "", ""},
		{"bad memory", config.Resources{Limits: config.ResourceList{Memory: "lots"}}, 4, limits{}, "",
			`invalid backend.resources.limits.memory "lots"`},
		{"bad cpu request", config.Resources{Requests: config.ResourceList{CPU: "1 core"}}, 4, limits{}, "",
			`invalid backend.resources.requests.cpu "1 core"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, note, err := limitsFor(tt.res, tt.cpus)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || note != tt.wantNote {
				t.Errorf("got %+v %q, want %+v %q", got, note, tt.want, tt.wantNote)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", -time.Second: "0", time.Second: "1", 1500 * time.Millisecond: "2", 4 * time.Hour: "14400",
	} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%s) = %s, want %s", d, got, want)
		}
	}
}
