package backend

import (
	"reflect"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/config"
)

func TestNewAgentEnvLayers(t *testing.T) {
	cfg := config.Defaults("/w")
	cfg.Env = map[string]string{
		"CLOUD_ML_REGION":  "europe-west1", // the configuration beats the host
		"FOO":              "bar",
		"HOME":             "/root",  // paude's own value wins
		"PAUDE_AGENT_ARGS": "--evil", // never from a project
	}
	host := map[string]string{"CLOUD_ML_REGION": "us-east5", "CLAUDE_CODE_USE_VERTEX": "1", "UNRELATED": "x"}
	own := EntrypointEnv("1-a", SessionSpec{Config: cfg, Yolo: true}, "/w", "/state")
	env := NewAgentEnv(cfg, func(k string) string { return host[k] }, own)
	wantPassed := map[string]string{"CLOUD_ML_REGION": "europe-west1", "CLAUDE_CODE_USE_VERTEX": "1", "FOO": "bar"}
	if !reflect.DeepEqual(env.Passed, wantPassed) {
		t.Errorf("passed = %v, want %v", env.Passed, wantPassed)
	}
	if env.From["CLAUDE_CODE_USE_VERTEX"] != "host variable CLAUDE_CODE_USE_VERTEX" || env.From["FOO"] != "configured variable FOO" {
		t.Errorf("from = %v", env.From)
	}
	wantOwn := map[string]string{
		"HOME": "/home/paude", "PAUDE_SESSION_ID": "1-a", "PAUDE_WORKSPACE": "/w", "PAUDE_STATE_DIR": "/state",
		"PAUDE_IDLE_TIMEOUT": "14400", "PAUDE_MAX_LIFETIME": "86400", "PAUDE_YOLO": "1",
	}
	if !reflect.DeepEqual(env.Own, wantOwn) {
		t.Errorf("own = %v, want %v", env.Own, wantOwn)
	}
	AddProxyEnv(own)
	if own["HTTPS_PROXY"] != "http://paude-proxy:3128" || own["no_proxy"] != "localhost,127.0.0.1,::1" {
		t.Errorf("proxy env = %v", own)
	}
}

func TestSecondsRoundsUp(t *testing.T) {
	for d, want := range map[time.Duration]int64{
		0: 0, -time.Second: 0, time.Nanosecond: 1, 1500 * time.Millisecond: 2, time.Second: 1, 4 * time.Hour: 14400,
	} {
		if got := Seconds(d); got != want {
			t.Errorf("Seconds(%v) = %d, want %d", d, got, want)
		}
	}
}
