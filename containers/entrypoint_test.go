package containers

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestEntrypointMainRunsAgentAndPropagatesExitCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.env["PAUDE_AGENT_ARGS"] = encodeArgs("--model", "a b")
	h.env["PAUDE_AGENT_YOLO_ARGS"] = encodeArgs("--yolo")
	h.env["PAUDE_YOLO"] = "1"
	main := h.start(h.command("--", "attach", "it's\nmulti-line", "$HOME"))
	h.agentStarted()

	want := []string{"--model", "a b", "--yolo", "attach", "it's\nmulti-line", "$HOME"}
	if got := h.agentArgs(); !reflect.DeepEqual(got, want) {
		t.Errorf("agent args %q, want %q", got, want)
	}
	if got := strings.TrimSpace(h.read(filepath.Join(h.ctl, "cwd"))); got != h.ws {
		t.Errorf("agent ran in %q, want the workspace %q", got, h.ws)
	}
	if got := h.status(); got != "running" {
		t.Errorf("status %q while the agent runs, want running", got)
	}
	if pane := h.read(filepath.Join(h.run, "agent.pane")); !strings.HasPrefix(pane, "%") {
		t.Errorf("agent.pane %q", pane)
	}

	h.finishAgent("7")
	if code := h.wait(main); code != 7 {
		t.Fatalf("main exited %d, want the agent's 7; stderr:\n%s", code, main.stderr.String())
	}
	if !strings.Contains(main.stdout.String(), "fake agent exiting with 7") {
		t.Errorf("main did not print the agent's last screen; stdout:\n%s", main.stdout.String())
	}
	if !strings.Contains(main.stderr.String(), "agent exited with code 7") {
		t.Errorf("stderr:\n%s", main.stderr.String())
	}
	if got := h.status(); got != "exited 7" {
		t.Errorf("status %q after the agent exited, want \"exited 7\"", got)
	}
	if h.sessionExists() {
		t.Errorf("tmux session still exists after the agent exited")
	}
	screen := h.read(filepath.Join(h.run, "agent.screen"))
	if !strings.Contains(screen, "fake agent ready") || strings.HasSuffix(screen, "\n\n") || strings.Contains(screen, "Pane is dead") {
		t.Errorf("agent.screen %q", screen)
	}
}

func TestEntrypointAgentKilledBySignal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	main := h.start(h.command())
	h.agentStarted()
	h.finishAgent("kill9")
	if code := h.wait(main); code != 128+9 {
		t.Fatalf("main exited %d, want 137; stderr:\n%s", code, main.stderr.String())
	}
}

func TestEntrypointAgentNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.env["PAUDE_AGENT_CMD"] = "paude-no-such-agent"
	main := h.start(h.command())
	if code := h.wait(main); code != 127 {
		t.Fatalf("main exited %d, want 127; stderr:\n%s", code, main.stderr.String())
	}
	// The screen is 80 columns wide: a long path before the name wraps it.
	if !strings.Contains(strings.ReplaceAll(main.stdout.String(), "\n", ""), "paude-no-such-agent") {
		t.Errorf("last screen does not name the missing program:\n%s", main.stdout.String())
	}
}

func TestEntrypointIdleTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.env["PAUDE_IDLE_TIMEOUT"] = "2"
	main := h.start(h.command())
	h.agentStarted()
	if code := h.wait(main); code != 124 {
		t.Fatalf("main exited %d, want 124; stderr:\n%s", code, main.stderr.String())
	}
	if !strings.Contains(main.stderr.String(), "no activity in session \"claude\" for PAUDE_IDLE_TIMEOUT=2s") {
		t.Errorf("stderr does not say why:\n%s", main.stderr.String())
	}
	if h.sessionExists() {
		t.Errorf("session still exists after the idle timeout")
	}
	h.agentGone()
	if got := h.status(); got != "exited 124" {
		t.Errorf("status %q, want \"exited 124\"", got)
	}
	if got := strings.TrimSpace(h.read(filepath.Join(h.run, "stop.reason"))); got != "idle" {
		t.Errorf("stop.reason %q", got)
	}
}

func TestEntrypointMaxLifetimeDespiteActivity(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.env["FAKE_CHATTY"] = "1"
	// The agent prints every 0.2s, so the 2s idle timeout never fires;
	// only the lifetime can end the session.
	h.env["PAUDE_IDLE_TIMEOUT"] = "2"
	h.env["PAUDE_MAX_LIFETIME"] = "4"
	main := h.start(h.command())
	h.agentStarted()
	if code := h.wait(main); code != 124 {
		t.Fatalf("main exited %d, want 124; stderr:\n%s", code, main.stderr.String())
	}
	if !strings.Contains(main.stderr.String(), "session reached PAUDE_MAX_LIFETIME=4s") {
		t.Errorf("stderr does not name the lifetime:\n%s", main.stderr.String())
	}
	h.agentGone()
}

func TestEntrypointStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	main := h.start(h.command())
	h.agentStarted()
	if err := main.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := h.wait(main); code != 143 {
		t.Fatalf("main exited %d, want 143; stderr:\n%s", code, main.stderr.String())
	}
	if h.sessionExists() {
		t.Errorf("session survived SIGTERM")
	}
	h.agentGone()
}

func TestEntrypointSetupRunsOncePerWorkspace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	state := filepath.Join(h.root, "state")
	h.env["PAUDE_STATE_DIR"] = state
	h.env["PAUDE_SETUP"] = `echo "setup output"; echo ran >>setup-count`
	for run := 1; run <= 2; run++ {
		_ = os.Remove(filepath.Join(h.ctl, "exit"))
		_ = os.Remove(filepath.Join(h.ctl, "args"))
		main := h.start(h.command())
		h.agentStarted()
		h.finishAgent("0")
		if code := h.wait(main); code != 0 {
			t.Fatalf("run %d: main exited %d; stderr:\n%s", run, code, main.stderr.String())
		}
		if got := h.read(filepath.Join(h.ws, "setup-count")); got != "ran\n" {
			t.Fatalf("run %d: setup ran %q times, want once", run, got)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(state, "setup-*.log"))
	markers, _ := filepath.Glob(filepath.Join(state, "setup-*.done"))
	if len(logs) != 1 || len(markers) != 1 || h.read(logs[0]) != "setup output\n" {
		t.Errorf("state dir: logs %v markers %v", logs, markers)
	}
	entries, _ := os.ReadDir(h.ws)
	if len(entries) != 1 {
		t.Errorf("the workspace holds more than the setup's own file: %v", entries)
	}
	// Another command is another setup.
	h.env["PAUDE_SETUP"] = `echo ran2 >>setup-count`
	_ = os.Remove(filepath.Join(h.ctl, "exit"))
	main := h.start(h.command())
	h.finishAgent("0")
	h.wait(main)
	if got := h.read(filepath.Join(h.ws, "setup-count")); got != "ran\nran2\n" {
		t.Errorf("changed setup command: count %q", got)
	}
}

func TestEntrypointSetupFailureIsShownAndRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	state := filepath.Join(h.root, "state")
	h.env["PAUDE_STATE_DIR"] = state
	h.env["PAUDE_SETUP"] = `echo attempt >>setup-count; echo "npm ERR! boom"; exit 3`
	for run := 1; run <= 2; run++ {
		_ = os.Remove(filepath.Join(h.ctl, "exit"))
		main := h.start(h.command())
		h.agentStarted()
		h.waitFor("setup.status", func() bool { return h.exists(filepath.Join(h.run, "setup.status")) })
		h.finishAgent("0")
		if code := h.wait(main); code != 0 {
			t.Fatalf("main exited %d; stderr:\n%s", code, main.stderr.String())
		}
		if !strings.Contains(main.stderr.String(), "setup failed with exit code 3") {
			t.Errorf("run %d: main's stderr does not report the failure:\n%s", run, main.stderr.String())
		}
		if !strings.Contains(main.stdout.String(), "SETUP FAILED (exit code 3)") || !strings.Contains(main.stdout.String(), "npm ERR! boom") {
			t.Errorf("run %d: the pane does not show the failure:\n%s", run, main.stdout.String())
		}
	}
	if got := h.read(filepath.Join(h.ws, "setup-count")); got != "attempt\nattempt\n" {
		t.Errorf("a failed setup was not retried: %q", got)
	}
	if markers, _ := filepath.Glob(filepath.Join(state, "*.done")); len(markers) != 0 {
		t.Errorf("a failed setup left a marker: %v", markers)
	}
}

func TestEntrypointRefusesBadEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"idle not a number", map[string]string{"PAUDE_IDLE_TIMEOUT": "4h"}, `PAUDE_IDLE_TIMEOUT="4h" is not a whole number of seconds`},
		{"negative lifetime", map[string]string{"PAUDE_MAX_LIFETIME": "-1"}, `PAUDE_MAX_LIFETIME="-1" is not a whole number`},
		{"state dir in workspace", map[string]string{"PAUDE_STATE_DIR": "WS/.state"}, "is inside the workspace"},
		{"state dir is workspace", map[string]string{"PAUDE_STATE_DIR": "WS"}, "is inside the workspace"},
		{"no agent command", map[string]string{"PAUDE_AGENT_CMD": ""}, "PAUDE_AGENT_CMD is not set"},
		{"missing workspace", map[string]string{"PAUDE_WORKSPACE": "/nonexistent/ws"}, "is not a directory"},
		{"bad args encoding", map[string]string{"PAUDE_AGENT_ARGS": "not*base64"}, "PAUDE_AGENT_ARGS is not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for k, v := range tt.env {
				h.env[k] = strings.ReplaceAll(v, "WS", h.ws)
			}
			main := h.start(h.command())
			if code := h.wait(main); code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, main.stderr.String())
			}
			if !strings.Contains(main.stderr.String(), tt.want) {
				t.Errorf("stderr %q, want it to contain %q", main.stderr.String(), tt.want)
			}
			if h.sessionExists() {
				t.Errorf("a session was created despite the error")
			}
		})
	}
}

func TestEntrypointShellcheck(t *testing.T) {
	t.Parallel()
	sc := requireTool(t, "shellcheck")
	out, err := exec.Command(sc, "paude/entrypoint.sh", "proxy/entrypoint.sh").CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

func TestTmuxConf(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A server without any configuration, then source the file: tmux
	// reports every bad line of it as an error here.
	if out, err := h.tmux("-f", "/dev/null", "new-session", "-d", "-s", "conf", "sleep 600"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out, err := h.tmux("source-file", "paude/tmux.conf"); err != nil || out != "" {
		t.Fatalf("tmux.conf: %v: %s", err, out)
	}
	for option, want := range map[string]string{"history-limit": "50000", "mouse": "off", "allow-rename": "off", "status": "on"} {
		if got, err := h.tmux("show-options", "-gv", option); err != nil || strings.TrimSpace(got) != want {
			t.Errorf("%s = %q (%v), want %q", option, got, err, want)
		}
	}
	if got, _ := h.tmux("show-options", "-gv", "status-right"); !strings.Contains(got, "C-b d") {
		t.Errorf("status line does not name the detach key: %q", got)
	}
}

// TestEntrypointWorkspaceNameIsNotATmuxFormat starts the agent in a
// directory whose name is a tmux format that runs a command: tmux must
// take it literally.
func TestEntrypointWorkspaceNameIsNotATmuxFormat(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	marker := filepath.Join(h.root, "pwned")
	h.ws = filepath.Join(h.root, "ws#(touch "+marker+")")
	if err := os.MkdirAll(h.ws, 0o777); err != nil {
		t.Fatal(err)
	}
	h.env["PAUDE_WORKSPACE"] = h.ws
	main := h.start(h.command())
	h.agentStarted()
	if got := strings.TrimSpace(h.read(filepath.Join(h.ctl, "cwd"))); got != h.ws {
		t.Errorf("agent ran in %q, want %q", got, h.ws)
	}
	h.finishAgent("0")
	if code := h.wait(main); code != 0 {
		t.Fatalf("main exited %d; stderr:\n%s", code, main.stderr.String())
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("tmux ran the command in the workspace's name")
	}
}

// TestEntrypointExportsEnvFile: values from PAUDE_ENV_FILE reach the
// agent byte for byte, line breaks and trailing blanks included, in the
// main mode and when attach recreates the session; a record that is not
// NAME=VALUE, or names a PAUDE_ variable, is refused.
func TestEntrypointExportsEnvFile(t *testing.T) {
	t.Parallel()
	values := map[string]string{
		"MULTI":  "line one\nline two\n\n",
		"TRICKY": ` a "b" 'c' #d =e \f $HOME ` + "\t",
		"EMPTY":  "",
	}
	h := newHarness(t)
	file := filepath.Join(h.root, "env")
	var records strings.Builder
	for _, k := range []string{"EMPTY", "MULTI", "TRICKY"} {
		records.WriteString(k + "=" + values[k] + "\x00")
	}
	if err := os.WriteFile(file, []byte(records.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	h.env["PAUDE_ENV_FILE"] = file
	main := h.start(h.command())
	h.agentStarted()
	got := map[string]string{}
	for _, kv := range strings.Split(h.read(filepath.Join(h.ctl, "env")), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			got[k] = v
		}
	}
	for k, want := range values {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %q (set: %v), want %q", k, v, ok, want)
		}
	}
	h.finishAgent("0")
	if code := h.wait(main); code != 0 {
		t.Fatalf("main exited %d; stderr:\n%s", code, main.stderr.String())
	}

	for name, record := range map[string]string{
		"reserved name": "PAUDE_AGENT_CMD=/bin/sh\x00",
		"no name":       "=x\x00",
		"no value":      "JUSTANAME\x00",
		"bad name":      "A-B=x\x00",
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			file := filepath.Join(h.root, "env")
			if err := os.WriteFile(file, []byte(record), 0o600); err != nil {
				t.Fatal(err)
			}
			h.env["PAUDE_ENV_FILE"] = file
			main := h.start(h.command())
			if code := h.wait(main); code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, main.stderr.String())
			}
			if !strings.Contains(main.stderr.String(), "is not NAME=VALUE with a variable name") {
				t.Errorf("stderr %q", main.stderr.String())
			}
			if h.sessionExists() {
				t.Errorf("a session was created despite the error")
			}
		})
	}
}

func TestEntrypointWaitsForTheWorkspace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	state := filepath.Join(h.root, "state")
	ready := filepath.Join(state, "workspace-ready")
	h.env["PAUDE_STATE_DIR"] = state
	h.env["PAUDE_WAIT_FILE"] = ready
	h.env["PAUDE_SETUP"] = `test -e project-file && echo ran >>setup-count`
	main := h.start(h.command())
	h.waitFor("the pane to say it waits", func() bool {
		out, _ := h.tmux("capture-pane", "-p", "-t", "=claude:")
		return strings.Contains(out, "waiting for the workspace to arrive")
	})
	if h.exists(filepath.Join(h.ctl, "args")) || h.exists(filepath.Join(h.ws, "setup-count")) {
		t.Fatal("setup or the agent started before the workspace arrived")
	}
	// The workspace arrives, then the backend says so.
	if err := os.WriteFile(filepath.Join(h.ws, "project-file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h.agentStarted()
	if got := h.read(filepath.Join(h.ws, "setup-count")); got != "ran\n" {
		t.Errorf("setup ran %q, want once, on the arrived files", got)
	}
	h.finishAgent("0")
	if code := h.wait(main); code != 0 {
		t.Fatalf("main exited %d; stderr:\n%s", code, main.stderr.String())
	}
	// Control: with the file there from the start, nothing waits.
	_ = os.Remove(filepath.Join(h.ctl, "exit"))
	_ = os.Remove(filepath.Join(h.ctl, "args"))
	main = h.start(h.command())
	h.agentStarted()
	h.finishAgent("0")
	h.wait(main)
}
