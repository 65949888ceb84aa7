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
	own := map[string]string{
		"HOME": "/home/paude", "PAUDE_WORKSPACE": "/w", "PAUDE_STATE_DIR": "/var/lib/paude-state",
		"PAUDE_IDLE_TIMEOUT": "14400", "PAUDE_MAX_LIFETIME": "2",
	}
	vertex := map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "proj", "CLOUD_ML_REGION": "us-east5"}
	with := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			maps.Copy(out, m)
		}
		return out
	}
	tests := []struct {
		name       string
		cfg        func(*config.Config)
		opts       backend.StartOptions
		wantOwn    map[string]string
		wantPassed map[string]string
	}{
		{"proxied defaults", nil, backend.StartOptions{}, with(own, proxied), vertex},
		{"open network has no proxy variables", nil, backend.StartOptions{AllowNetwork: true}, own, vertex},
		{"yolo and setup are paude's own", func(c *config.Config) { c.Setup = "npm ci\nmake" }, backend.StartOptions{Yolo: true},
			with(own, proxied, map[string]string{"PAUDE_YOLO": "1", "PAUDE_SETUP": "npm ci\nmake"}), vertex},
		{"config env overrides pass-through but not paude's own",
			func(c *config.Config) {
				c.Env = map[string]string{"CLOUD_ML_REGION": "europe-west4", "FOO": "bar",
					"HTTPS_PROXY": "http://evil:1", "HOME": "/root", "PAUDE_YOLO": "1", "PAUDE_SETUP": "rm -rf /"}
			},
			backend.StartOptions{},
			with(own, proxied), with(vertex, map[string]string{"CLOUD_ML_REGION": "europe-west4", "FOO": "bar"})},
		{"a proxy variable of the config is passed when the network is open",
			func(c *config.Config) { c.Env = map[string]string{"HTTPS_PROXY": "http://corp:8080"} },
			backend.StartOptions{AllowNetwork: true},
			own, with(vertex, map[string]string{"HTTPS_PROXY": "http://corp:8080"})},
		{"timeouts of zero mean never",
			func(c *config.Config) { c.Session = config.Session{} }, backend.StartOptions{AllowNetwork: true},
			with(own, map[string]string{"PAUDE_IDLE_TIMEOUT": "0", "PAUDE_MAX_LIFETIME": "0"}), vertex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			if tt.cfg != nil {
				tt.cfg(c)
			}
			got := agentEnv(c, tt.opts, "/w", getenv)
			if !maps.Equal(got.Own, tt.wantOwn) {
				t.Errorf("own variables mismatch\n got: %v\nwant: %v", got.Own, tt.wantOwn)
			}
			if !maps.Equal(got.Passed, tt.wantPassed) {
				t.Errorf("passed variables mismatch\n got: %v\nwant: %v", got.Passed, tt.wantPassed)
			}
		})
	}
}

// TestAgentEnvCheck checks that a value the env file cannot carry is
// refused with the setting it came from, and that a value it can carry,
// however odd, is not.
func TestAgentEnvCheck(t *testing.T) {
	tests := []struct {
		name    string
		host    map[string]string
		env     map[string]string
		setup   string
		wantErr string
	}{
		{name: "odd but single-line values pass",
			env: map[string]string{"A": ` lead "dq" 'sq' #hash a=b trail `, "B": "#starts-with-hash", "C": "", "D": "tab\there"}},
		{name: "a multi-line setup is paude's own and passes", setup: "npm ci\nmake\n"},
		{name: "newline in config env", env: map[string]string{"CERT": "-----BEGIN-----\nabc"},
			wantErr: "configured variable CERT cannot be passed to the session: its value has a line break"},
		{name: "carriage return in config env", env: map[string]string{"X": "a\rb"},
			wantErr: "configured variable X cannot be passed to the session: its value has a line break"},
		{name: "newline in a host variable", host: map[string]string{"CLOUD_ML_REGION": "us\neast"},
			wantErr: "host variable CLOUD_ML_REGION cannot be passed to the session: its value has a line break"},
		{name: "a config value replacing a bad host value is what counts",
			host: map[string]string{"CLOUD_ML_REGION": "us\neast"}, env: map[string]string{"CLOUD_ML_REGION": "us-east5"}},
		{name: "too long for podman's line reader", env: map[string]string{"BIG": strings.Repeat("x", maxEnvFileLine-len("BIG=")+1)},
			wantErr: "configured variable BIG cannot be passed to the session: its value is 65532 bytes, more than podman's --env-file reads for it (65531)"},
		{name: "the longest line podman reads", env: map[string]string{"BIG": strings.Repeat("x", maxEnvFileLine-len("BIG="))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Defaults("/w")
			c.Env, c.Setup = tt.env, tt.setup
			err := agentEnv(c, backend.StartOptions{}, "/w", func(k string) string { return tt.host[k] }).check()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v\nwant prefix %s", err, tt.wantErr)
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
