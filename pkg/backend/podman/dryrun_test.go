package podman

import (
	"bytes"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

func TestDryRunPrintsCommandsAndRunsNothing(t *testing.T) {
	ws := t.TempDir()
	cfg := config.Defaults(ws)
	cfg.Env = map[string]string{"TOKEN": "s3cret"}
	f := newFake(t)
	var out bytes.Buffer
	b := newTestBackend(t, f, Options{StateDir: "/state"})
	err := b.DryRun(backend.StartOptions{Config: cfg, Workspace: ws, Yolo: true, AgentArgs: []string{"--model", "opus"}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if calls := f.Calls(); len(calls) != 0 {
		t.Fatalf("a dry run ran podman: %q", calls)
	}
	got := out.String()
	for _, want := range []string{
		"podman build --force-rm --label app=paude -t paude-workspace:",
		"podman build --force-rm --label app=paude -t paude-proxy:",
		"podman network create --internal --disable-dns",
		"-v /state/proxy/squid-",
		"podman create --name paude-<id>",
		"--dns none --add-host paude-proxy:<proxy-ip>",
		"-e PAUDE_YOLO=1",
		"-e TOKEN=<hidden>",
		"-- --model opus\n",
		"podman start paude-<id>",
		"podman exec -it -e TERM=$TERM paude-<id> /usr/local/bin/paude-entrypoint attach",
		"### dry run: nothing was started",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("dry run lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cret") {
		t.Error("the dry run printed an env value")
	}

	t.Run("allow-network has no proxy", func(t *testing.T) {
		var out bytes.Buffer
		if err := b.DryRun(backend.StartOptions{Config: cfg, Workspace: ws, AllowNetwork: true, Image: "my/image"}, &out); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"paude-proxy", "podman build", "network create"} {
			if strings.Contains(out.String(), bad) {
				t.Errorf("allow-network dry run mentions %q:\n%s", bad, out.String())
			}
		}
		if !strings.Contains(out.String(), "--network podman") || !strings.Contains(out.String(), " my/image --") {
			t.Errorf("allow-network dry run:\n%s", out.String())
		}
	})
}

func TestShellWords(t *testing.T) {
	got := shellWords([]string{"run", "a b", "it's", "", "x=1,y", "$TERM"})
	if want := `run 'a b' 'it'\''s' '' x=1,y $TERM`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
