//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/podman"
)

// typeInAgent types a command line into the agent's tmux pane, as a user
// at the terminal would.
func typeInAgent(t *testing.T, id, line string) {
	t.Helper()
	if out, err := podmanCmd("exec", "paude-"+id, "tmux", "send-keys", "-t", "=claude:", "-l", line); err != nil {
		t.Fatalf("send-keys: %v: %s", err, out)
	}
	if out, err := podmanCmd("exec", "paude-"+id, "tmux", "send-keys", "-t", "=claude:", "Enter"); err != nil {
		t.Fatalf("send-keys: %v: %s", err, out)
	}
}

// TestWorkspace checks what the agent sees of the host: the workspace
// read-write at the same path (git works under an OpenShift-style
// arbitrary UID), credentials copied in (changes stay inside), venvs
// shadowed, setup once per workspace, the Vertex variables and --yolo
// passed on, and a configured env value arriving byte for byte, line
// breaks included, without ever being on podman's command line.
func TestWorkspace(t *testing.T) {
	need(t)
	// Blanks at both ends, quotes, '#', '=' and line breaks: what an env
	// file could be thought to mangle; the number makes the value unique
	// to this run.
	trickyValue := fmt.Sprintf(" e2e-marker-%d \"double\" 'single' #not-a-comment a=b=c \n-----BEGIN KEY-----\nMIIE\n\n", time.Now().UnixNano())
	ws := newWorkspace(t, fakeAgentConfig(map[string]any{"setup": "echo ran >> setup-log.txt",
		"env": map[string]string{"E2E_TRICKY": trickyValue}}))
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-c", "safe.directory=*", "-C", ws}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	git("init", "-q", "-b", "main")
	git("-c", "user.name=host", "-c", "user.email=host@example.invalid", "commit", "-q", "--allow-empty", "-m", "init")
	mkFile(t, filepath.Join(ws, ".venv", "host-only"), "host venv")
	// The arbitrary UID is in group 0, like on OpenShift: the workspace
	// must be writable by that group.
	chownTree(t, ws, 0, 0)
	if out, err := exec.Command("chmod", "-R", "g+rwX", ws).CombinedOutput(); err != nil {
		t.Fatalf("chmod: %v: %s", err, out)
	}

	progress := &syncBuffer{}
	// podman copies its own proxy variables into containers unless told
	// not to; the session must see only paude's proxy.
	t.Setenv("ftp_proxy", "http://host-proxy.invalid:3128")
	var home string
	b := testBackend(t, progress, func(o *podman.Options) {
		o.User = "1000680000:0"
		home = o.HomeDir
		host := map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "e2e-project",
			"ANTHROPIC_API_KEY": "sk-not-for-vertex", "TERM": "xterm"}
		o.Getenv = func(k string) string { return host[k] }
	})
	mkFile(t, filepath.Join(home, ".gitconfig"), "[user]\n\tname = Agent Tester\n\temail = agent@example.invalid\n")
	mkFile(t, filepath.Join(home, ".config", "gcloud", "application_default_credentials.json"), `{"fake":"creds"}`)
	mkFile(t, filepath.Join(home, ".claude", "settings.json"), `{"host":"settings"}`)
	mkFile(t, filepath.Join(home, ".claude", "agents", "reviewer.md"), "a reviewer")
	mkFile(t, filepath.Join(home, ".claude", "projects", "-home-u-other", "transcript.jsonl"), `{"secret":"other project"}`)
	mkFile(t, filepath.Join(home, ".claude.json"), `{"host":"state"}`)

	s := startSession(t, b, progress, backend.SessionSpec{Config: loadConfig(t, ws), Workspace: ws, Yolo: true,
		AgentArgs: []string{"--from-args"}})
	waitScreen(t, s.ID, "fake-agent$", 30*time.Second)

	t.Run("the agent runs as the configured UID with the yolo and user arguments", func(t *testing.T) {
		sc := screen(t, s.ID)
		if !strings.Contains(sc, "FAKE AGENT READY uid=1000680000 gid=0 args:--yolo-was-given --from-args") {
			t.Errorf("agent banner not as expected:\n%s", sc)
		}
	})
	t.Run("the agent has no capabilities and its limits", func(t *testing.T) {
		out := mustInAgent(t, s.ID, "grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status; "+
			"cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; "+
			"cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")
		for _, want := range []string{"CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1",
			"\n4096\n", "\n8589934592\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("agent status lacks %q:\n%s", want, out)
			}
		}
		// And so cannot do what root can, even in its own container.
		if out, err := inAgent(t, s.ID, "chown 0 /home/paude/.claude.json"); err == nil {
			t.Errorf("chown to root succeeded: %s", out)
		}
	})
	t.Run("a file the agent writes appears on the host", func(t *testing.T) {
		typeInAgent(t, s.ID, "pwd > written-by-agent.txt")
		waitFor(t, "the file on the host", 10*time.Second, func() bool {
			b, err := os.ReadFile(filepath.Join(ws, "written-by-agent.txt"))
			return err == nil && strings.TrimSpace(string(b)) == ws
		})
	})
	t.Run("git commit works inside and arrives on detach", func(t *testing.T) {
		typeInAgent(t, s.ID, "git add written-by-agent.txt && git commit -q -m from-the-agent && echo COMMIT-DONE")
		waitScreen(t, s.ID, "COMMIT-DONE", 15*time.Second)
		if log := git("log", "-1", "--format=%s"); strings.TrimSpace(log) != "init" {
			t.Errorf("the agent's commit reached the host's branch without a fetch: %q", log)
		}
		var report bytes.Buffer
		if _, err := b.AttachSession(context.Background(), s.ID, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &report}); err != nil {
			t.Fatal(err)
		}
		if log := git("log", "-1", "--format=%s|%an", "refs/remotes/paude/"+s.ID+"/main"); strings.TrimSpace(log) != "from-the-agent|Agent Tester" {
			t.Errorf("after the detach, paude/%s/main is %q; the report:\n%s", s.ID, log, report.String())
		}
	})
	t.Run("the agent's git settings stay in its own repository", func(t *testing.T) {
		hostConfig := git("config", "--local", "--list")
		mustInAgent(t, s.ID, "git config core.fsmonitor 'touch /tmp/pwned' && git config core.hooksPath /tmp && "+
			"printf '#!/bin/sh\\ntouch /tmp/pwned\\n' > .git/hooks/post-commit && rm -rf .git/info")
		if _, err := os.Stat(filepath.Join(ws, ".git/hooks/post-commit")); err == nil {
			t.Error("a hook written inside reached the host's .git/hooks")
		}
		if _, err := os.Stat(filepath.Join(ws, ".git/info")); err != nil {
			t.Error("the agent removed the host's .git/info")
		}
		if cfg := git("config", "--local", "--list"); cfg != hostConfig {
			t.Errorf("the host's repository config changed:\n%s", cfg)
		}
		// The agent's own repository keeps working.
		typeInAgent(t, s.ID, "git -c core.fsmonitor=false commit -q --allow-empty -m after && echo GUARD-COMMIT-DONE")
		waitScreen(t, s.ID, "GUARD-COMMIT-DONE", 15*time.Second)
	})
	t.Run("credentials are copies: changes inside never reach the host", func(t *testing.T) {
		if out := mustInAgent(t, s.ID, "cat ~/.config/gcloud/application_default_credentials.json"); out != `{"fake":"creds"}` {
			t.Errorf("gcloud credentials inside: %q", out)
		}
		mustInAgent(t, s.ID, "git config --global user.name Mallory && "+
			"echo '{}' > ~/.config/gcloud/application_default_credentials.json && touch ~/.config/gcloud/new-file")
		if b, _ := os.ReadFile(filepath.Join(home, ".gitconfig")); strings.Contains(string(b), "Mallory") {
			t.Errorf("the host's ~/.gitconfig changed:\n%s", b)
		}
		if b, _ := os.ReadFile(filepath.Join(home, ".config", "gcloud", "application_default_credentials.json")); string(b) != `{"fake":"creds"}` {
			t.Errorf("the host's gcloud credentials changed: %q", b)
		}
		if _, err := os.Stat(filepath.Join(home, ".config", "gcloud", "new-file")); err == nil {
			t.Error("a file made inside ~/.config/gcloud reached the host")
		}
	})
	t.Run("claude settings are a writable copy", func(t *testing.T) {
		if out := mustInAgent(t, s.ID, "cat ~/.claude/agents/reviewer.md"); out != "a reviewer" {
			t.Errorf("~/.claude/agents inside: %q", out)
		}
		if out, err := inAgent(t, s.ID, "ls -A ~/.claude/projects"); err == nil {
			t.Errorf("other projects' history reached the session: %q", out)
		}
		mustInAgent(t, s.ID, `echo '{"changed":1}' > ~/.claude/settings.json && echo '{}' > ~/.claude.json`)
		for file, want := range map[string]string{".claude/settings.json": `{"host":"settings"}`, ".claude.json": `{"host":"state"}`} {
			if b, _ := os.ReadFile(filepath.Join(home, file)); string(b) != want {
				t.Errorf("host %s changed to %q", file, b)
			}
		}
	})
	t.Run("the venv is shadowed", func(t *testing.T) {
		if out := mustInAgent(t, s.ID, "ls -A .venv; touch .venv/from-container && echo ok"); strings.TrimSpace(out) != "ok" {
			t.Errorf("inside .venv: %q", out)
		}
		if _, err := os.Stat(filepath.Join(ws, ".venv", "from-container")); err == nil {
			t.Error("a file written to the shadowed .venv reached the host")
		}
		if _, err := os.Stat(filepath.Join(ws, ".venv", "host-only")); err != nil {
			t.Errorf("the host's venv was touched: %v", err)
		}
	})
	t.Run("vertex variables are passed through", func(t *testing.T) {
		env := agentEnviron(t, s.ID)
		for k, want := range map[string]string{"CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "e2e-project"} {
			if env[k] != want {
				t.Errorf("agent env %s = %q, want %q", k, env[k], want)
			}
		}
		if _, ok := env["ANTHROPIC_API_KEY"]; ok {
			t.Error("the host's Anthropic API key reached a Vertex AI session")
		}
		if _, ok := env["ftp_proxy"]; ok {
			t.Error("the host's ftp_proxy reached the session behind paude's proxy")
		}
	})
	t.Run("a configured env value arrives byte for byte and never on podman's command line", func(t *testing.T) {
		if got := agentEnviron(t, s.ID)["E2E_TRICKY"]; got != trickyValue {
			t.Errorf("the agent's E2E_TRICKY = %q, want %q", got, trickyValue)
		}
		// Neither the command podman was run with, which podman records,
		// nor the container's configuration holds the value: it lives
		// only in the env file copied into the session.
		var env, createCommand []string
		inspectJSON(t, "paude-"+s.ID, "{{json .Config.Env}}", &env)
		inspectJSON(t, "paude-"+s.ID, "{{json .Config.CreateCommand}}", &createCommand)
		if len(createCommand) == 0 || !slices.Contains(createCommand, "PAUDE_ENV_FILE=/home/paude/.paude/env") {
			t.Errorf("CreateCommand does not point at the env file: %q", createCommand)
		}
		for _, arg := range append(createCommand, env...) {
			for _, secret := range []string{"e2e-marker-", "e2e-project", "us-east5"} {
				if strings.Contains(arg, secret) {
					t.Errorf("the container's command line or configuration holds %q: %q", secret, arg)
				}
			}
		}
		if out := mustInAgent(t, s.ID, "stat -c %a ~/.paude/env"); strings.TrimSpace(out) != "600" {
			t.Errorf("env file mode %q, want 600", out)
		}
	})
	t.Run("setup runs once per workspace and leaves no marker in it", func(t *testing.T) {
		second := startSession(t, b, progress, backend.SessionSpec{Config: loadConfig(t, ws), Workspace: ws})
		waitScreen(t, second.ID, "fake-agent$", 30*time.Second)
		if b, _ := os.ReadFile(filepath.Join(ws, "setup-log.txt")); string(b) != "ran\n" {
			t.Errorf("setup-log.txt = %q, want one run", b)
		}
		status := git("status", "--porcelain", "--ignored")
		for _, line := range strings.Split(strings.TrimSpace(status), "\n") {
			if !strings.HasSuffix(line, "setup-log.txt") && !strings.HasSuffix(line, ".venv/") && !strings.HasSuffix(line, "paude.json") &&
				!strings.HasSuffix(line, "written-by-agent.txt") {
				t.Errorf("unexpected file in the workspace: %q", line)
			}
		}
	})
}

// inspectJSON decodes a JSON field of `podman container inspect` into v.
func inspectJSON(t *testing.T, name, format string, v any) {
	t.Helper()
	out, err := exec.Command("podman", "container", "inspect", "--format", format, name).Output()
	if err != nil {
		t.Fatalf("podman container inspect %s: %v", name, err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("podman container inspect %s --format %s printed %q: %v", name, format, out, err)
	}
}

func mkFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDevcontainerBuild starts a project described by a devcontainer.json
// with its own Dockerfile: the user's image is built first, paude's layer
// on top, and containerEnv and postCreateCommand reach the session.
func TestDevcontainerBuild(t *testing.T) {
	need(t)
	ws := newWorkspace(t, nil)
	fake := fakeAgentConfig(nil)
	dc := map[string]any{
		"build":             map[string]any{"dockerfile": "Dockerfile", "args": map[string]string{"MARK": "from-user-build"}},
		"containerEnv":      map[string]string{"FROM_DEVCONTAINER": "yes"},
		"postCreateCommand": "echo post-create > post-create.txt",
		"customizations":    map[string]any{"paude": map[string]any{"agent": fake["agent"], "network": fake["network"]}},
	}
	b, err := json.Marshal(dc)
	if err != nil {
		t.Fatal(err)
	}
	mkFile(t, filepath.Join(ws, ".devcontainer", "devcontainer.json"), string(b))
	mkFile(t, filepath.Join(ws, ".devcontainer", "Dockerfile"),
		"FROM docker.io/library/debian:bookworm-slim\nARG MARK\nRUN echo \"$MARK\" > /user-build-marker\n")
	chownTree(t, ws, 1000, 1000)

	progress := &syncBuffer{}
	cfg := loadConfig(t, ws)
	s := startSession(t, testBackend(t, progress, nil), progress, backend.SessionSpec{Config: cfg, Workspace: ws})
	if !strings.Contains(progress.String(), "Building paude-userbase:") && !strings.Contains(progress.String(), "already built") {
		t.Errorf("no user image build in the progress:\n%s", tail(progress.String(), 20))
	}
	if out := mustInAgent(t, s.ID, "cat /user-build-marker"); out != "from-user-build\n" {
		t.Errorf("inside the session: %q", out)
	}
	if got := agentEnviron(t, s.ID)["FROM_DEVCONTAINER"]; got != "yes" {
		t.Errorf("the agent's FROM_DEVCONTAINER = %q, want yes", got)
	}
	waitScreen(t, s.ID, "fake-agent$", 30*time.Second)
	if b, _ := os.ReadFile(filepath.Join(ws, "post-create.txt")); string(b) != "post-create\n" {
		t.Errorf("postCreateCommand did not run: %q", b)
	}
}
