package plugin

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/paude-dev/paude/pkg/backend"
)

func outputSessions() []backend.Session {
	created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return []backend.Session{
		{ID: "1700000300-aaaaaaaa", Status: backend.StatusRunning, CreatedAt: created, Workspace: "/home/u/project",
			BackendType: backend.Podman, Network: backend.NetworkProxy},
		{ID: "1700000000-bbbbbbbb", Status: backend.StatusError, Reason: "ImagePullBackOff", CreatedAt: created.Add(-time.Hour),
			Workspace: "/home/u/other", BackendType: backend.Podman, Network: backend.NetworkOpen},
	}
}

// TestSessionsJSON: scripts get every field, in the list shape kubectl
// users know.
func TestSessionsJSON(t *testing.T) {
	f := &fakeBackend{typ: backend.Podman, sessions: outputSessions()}
	res := runCmd(t, Standalone, f, "", "sessions", "-o", "json")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.errOut)
	}
	var got struct {
		APIVersion string           `json:"apiVersion"`
		Kind       string           `json:"kind"`
		Items      []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(res.out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, res.out)
	}
	if got.APIVersion != "paude.io/v1alpha1" || got.Kind != "SessionList" || len(got.Items) != 2 {
		t.Fatalf("got %+v", got)
	}
	want := map[string]any{"id": "1700000000-bbbbbbbb", "status": "error", "reason": "ImagePullBackOff",
		"workspace": "/home/u/other", "createdAt": "2026-12-01T09:00:00Z", "backend": "podman", "network": "open"}
	for k, v := range want {
		if got.Items[1][k] != v {
			t.Errorf("item %s = %v, want %v", k, got.Items[1][k], v)
		}
	}
	// No sessions: an empty list on Out, nothing on ErrOut to parse around.
	res = runCmd(t, Standalone, &fakeBackend{typ: backend.Podman}, "", "sessions", "-o", "json")
	if res.code != 0 || !strings.Contains(res.out, `"items": []`) || res.errOut != "" {
		t.Errorf("empty: code %d out %q err %q", res.code, res.out, res.errOut)
	}
}

func TestSessionsYAML(t *testing.T) {
	f := &fakeBackend{typ: backend.OpenShift, sessions: outputSessions()[:1]}
	res := runCmd(t, KubectlPlugin, f, "", "sessions", "-o", "yaml")
	var got map[string]any
	if err := yaml.Unmarshal([]byte(res.out), &got); err != nil || res.code != 0 {
		t.Fatalf("code %d err %v:\n%s", res.code, err, res.out)
	}
	items, _ := got["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != "1700000300-aaaaaaaa" {
		t.Errorf("yaml:\n%s", res.out)
	}
}

func TestSessionsWideAndNoHeaders(t *testing.T) {
	f := &fakeBackend{typ: backend.Podman, sessions: outputSessions()}
	res := runCmd(t, Standalone, f, "", "sessions", "-o", "wide")
	lines := strings.Split(strings.TrimRight(res.out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(strings.TrimSpace(lines[0]), "WORKSPACE         NETWORK   BACKEND") ||
		!strings.HasSuffix(lines[2], "open      podman") {
		t.Errorf("wide:\n%s", res.out)
	}
	res = runCmd(t, Standalone, f, "", "sessions", "--no-headers")
	if lines := strings.Split(strings.TrimRight(res.out, "\n"), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "1700000300-aaaaaaaa") {
		t.Errorf("no headers:\n%s", res.out)
	}
	res = runCmd(t, Standalone, f, "", "sessions", "-o", "xml")
	if res.code != 2 || !strings.Contains(res.errOut, `unknown output format "xml": choose one of wide, json, yaml`) ||
		!strings.Contains(res.errOut, "See 'paude sessions -h'") {
		t.Errorf("bad format: code %d err %q", res.code, res.errOut)
	}
	if res.built {
		t.Error("a bad output format built the backend")
	}
}
