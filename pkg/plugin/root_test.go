package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
)

func TestHelpNamesTheBinary(t *testing.T) {
	tests := []struct {
		flavor   Flavor
		want     []string
		dontWant []string
	}{
		{
			flavor:   KubectlPlugin,
			want:     []string{"kubectl paude [flags]", "kubectl paude attach", "--namespace", "--context", "--kubeconfig", "sessions", "default \"openshift\""},
			dontWant: []string{"--openshift-namespace", "kubectl-paude"},
		},
		{
			flavor: Standalone,
			want:   []string{"paude [flags]", "--openshift-namespace", "--openshift-context", "--namespace", "--allow-network", "--yolo", "--rebuild", "--dry-run", "default \"podman\""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.flavor.Binary, func(t *testing.T) {
			res := runCmd(t, tt.flavor, nil, "", "--help")
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.out, w) {
					t.Errorf("help lacks %q:\n%s", w, res.out)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(res.out, w) {
					t.Errorf("help should not contain %q", w)
				}
			}
			if res.built {
				t.Error("--help built a backend")
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown backend", []string{"--backend=docker", "sessions"}, `unknown backend "docker": choose one of podman, openshift`},
		{"unknown flag", []string{"--frobnicate"}, "unknown flag: --frobnicate"},
		{"positional before dash", []string{"hello"}, `unknown command "hello": pass agent arguments after --`},
		{"stop id and all", []string{"stop", "--all", "1700000000-deadbeef"}, "give a session id or --all, not both"},
		{"bad session id", []string{"attach", "Bad;ID"}, `invalid session id "Bad;ID"`},
		{"too many args", []string{"attach", "a", "b"}, `unexpected argument "b"`},
		{"contradicting legacy flags", []string{"--context=a", "--openshift-context=b", "sessions"}, `--openshift-context="b" contradicts --context="a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBackend{typ: backend.Podman}
			res := runCmd(t, Standalone, f, emptyWorkspace(t), tt.args...)
			if res.code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", res.code, res.errOut)
			}
			if !strings.Contains(res.errOut, tt.want) || !strings.Contains(res.errOut, "-h' for help") {
				t.Fatalf("stderr %q lacks %q and the help hint", res.errOut, tt.want)
			}
			if len(f.calls) != 0 {
				t.Fatalf("a usage error reached the backend: %s", calls(f))
			}
		})
	}
}

func TestUnavailableBackendExitsOne(t *testing.T) {
	res := runCmd(t, Standalone, nil, emptyWorkspace(t), "--backend=openshift", "sessions")
	if res.code != 1 || !strings.Contains(res.errOut, "openshift backend unavailable: not in this test") {
		t.Fatalf("exit %d, stderr %q", res.code, res.errOut)
	}
	if res.backendType != backend.OpenShift {
		t.Fatalf("built %q", res.backendType)
	}
}

func TestDefaultBackendPerFlavor(t *testing.T) {
	for flavor, want := range map[*Flavor]backend.Type{&Standalone: backend.Podman, &KubectlPlugin: backend.OpenShift} {
		f := &fakeBackend{typ: want}
		res := runCmd(t, *flavor, f, "", "sessions")
		if res.backendType != want {
			t.Errorf("%s: built %q, want %q", flavor.Binary, res.backendType, want)
		}
	}
}

func TestLegacyFlagsFeedConfigFlags(t *testing.T) {
	root := NewRootOptions(testStreams(), Standalone)
	cmd := NewRootCmdWithOptions(root)
	if err := cmd.ParseFlags([]string{"--openshift-namespace=agents", "--openshift-context=prod"}); err != nil {
		t.Fatal(err)
	}
	if err := root.applyLegacyFlags(); err != nil {
		t.Fatal(err)
	}
	ns, _, err := root.KubeFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		t.Fatal(err)
	}
	if ns != "agents" || *root.KubeFlags.Context != "prod" {
		t.Fatalf("namespace %q context %q", ns, *root.KubeFlags.Context)
	}
}

func TestSessionsTable(t *testing.T) {
	now := time.Now()
	f := &fakeBackend{typ: backend.Podman, sessions: []backend.Session{
		{ID: "1700000300-aaaaaaaa", Status: backend.StatusRunning, CreatedAt: now.Add(-5*time.Minute - time.Second), Workspace: "/home/u/project"},
		{ID: "1700000000-bbbbbbbb", Status: backend.StatusError, Reason: "ImagePullBackOff", CreatedAt: now.Add(-61 * time.Minute), Workspace: "/home/u/other"},
	}}
	res := runCmd(t, Standalone, f, "", "sessions")
	want := []string{
		"ID                    STATUS                     CREATED         WORKSPACE",
		"1700000300-aaaaaaaa   running                    5 minutes ago   /home/u/project",
		"1700000000-bbbbbbbb   error (ImagePullBackOff)   1 hour ago      /home/u/other",
	}
	if got := strings.TrimRight(res.out, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestSessionsEmptySaysHowToStart(t *testing.T) {
	res := runCmd(t, KubectlPlugin, &fakeBackend{typ: backend.OpenShift}, "", "sessions")
	if res.code != 0 || res.out != "" || !strings.Contains(res.errOut, "Start one with 'kubectl paude'") {
		t.Fatalf("code %d out %q err %q", res.code, res.out, res.errOut)
	}
}

func TestAgo(t *testing.T) {
	tests := map[time.Duration]string{
		0:                "just now",
		time.Second:      "1 second ago",
		90 * time.Second: "1 minute ago",
		5 * time.Minute:  "5 minutes ago",
		47 * time.Hour:   "47 hours ago",
		72 * time.Hour:   "3 days ago",
	}
	for d, want := range tests {
		if got := ago(d); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}
