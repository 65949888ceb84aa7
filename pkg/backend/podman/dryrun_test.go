package podman

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/podmancli"
)

func TestDryRunPrintsCommandsAndRunsNothing(t *testing.T) {
	ws := t.TempDir()
	cfg := config.Defaults(ws)
	cfg.Env = map[string]string{"TOKEN": "s3cret"}
	f := newFake(t)
	var out bytes.Buffer
	b := newTestBackend(t, f, Options{StateDir: "/state", Getenv: func(k string) string {
		return map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "host-project-x"}[k]
	}})
	err := b.DryRun(context.Background(), backend.SessionSpec{Config: cfg, Workspace: ws, Yolo: true, AgentArgs: []string{"--model", "opus"}}, &out)
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
		"podman network create --internal --disable-dns --label app=paude --label paude.io/role=network --label paude.io/session-id=<id> paude-net-<id>",
		"podman network connect paude-net-<id> paude-proxy-",
		"-v /state/proxy/squid-",
		"podman create --name paude-<id>",
		"--network paude-net-<id> --dns none --add-host paude-proxy:<proxy-ip>",
		"-e PAUDE_YOLO=1",
		"# stdin: a tar stream into /home/paude with\n" +
			"#   .paude/env (mode 0600), the environment values kept off the command line:\n" +
			"#     ANTHROPIC_VERTEX_PROJECT_ID=<hidden>\n#     CLAUDE_CODE_USE_VERTEX=<hidden>\n#     CLOUD_ML_REGION=<hidden>\n#     TOKEN=<hidden>\n8. podman cp - paude-<id>:/home/paude\n",
		"--add-host paude-proxy:<proxy-ip> --http-proxy=false --sysctl net.ipv6.conf.all.disable_ipv6=1 --sysctl net.ipv6.conf.default.disable_ipv6=1 -e CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		// A start without ADC would be refused; the dry run says so.
		"# Note: a start would be refused: claude code cannot reach Vertex AI: no application-default credentials",
		"-e PAUDE_ENV_FILE=/home/paude/.paude/env",
		"-- --model opus\n",
		"podman start paude-<id>",
		"podman exec -it -e TERM=$TERM paude-<id> /usr/local/bin/paude-entrypoint attach",
		"### dry run: nothing was started",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("dry run lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"s3cret", "host-project-x", "us-east5-", "-e TOKEN", "-e ANTHROPIC"} {
		if strings.Contains(got, secret) {
			t.Errorf("the dry run printed %q", secret)
		}
	}

	t.Run("no configured or host variables, no env file", func(t *testing.T) {
		var out bytes.Buffer
		b := newTestBackend(t, f, Options{StateDir: "/state"})
		if err := b.DryRun(context.Background(), backend.SessionSpec{Config: config.Defaults(ws), Workspace: ws}, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "PAUDE_ENV_FILE") || strings.Contains(out.String(), "podman cp") {
			t.Errorf("a dry run without variables or credentials copies something:\n%s", out.String())
		}
	})
	t.Run("build arguments are hidden", func(t *testing.T) {
		c := config.Defaults(ws)
		c.Base = ""
		mkTree(t, ws, "Dockerfile")
		c.Build = &config.Build{Dockerfile: ws + "/Dockerfile", Context: ws,
			Args: map[string]string{"NPM_TOKEN": "npm_S3CRET", "http_proxy": "http://user:S3CRET@corp:3128"}}
		var out bytes.Buffer
		if err := b.DryRun(context.Background(), backend.SessionSpec{Config: c, Workspace: ws}, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "S3CRET") || !strings.Contains(out.String(), "--build-arg NPM_TOKEN=<hidden> --build-arg http_proxy=<hidden>") {
			t.Errorf("build arguments:\n%s", out.String())
		}
	})

	t.Run("allow-network has no proxy", func(t *testing.T) {
		var out bytes.Buffer
		if err := b.DryRun(context.Background(), backend.SessionSpec{Config: cfg, Workspace: ws, AllowNetwork: true, Image: "my/image"}, &out); err != nil {
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
	got := podmancli.ShellWords([]string{"run", "a b", "it's", "", "x=1,y", "$TERM"})
	if want := `run 'a b' 'it'\''s' '' x=1,y $TERM`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
