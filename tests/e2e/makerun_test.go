//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMakeRunFromAFreshClone is the README's first command as a newcomer
// types it: in a fresh clone, in a terminal, `make run` for a project
// builds paude, installs Podman when it is missing (hack/podman/install.sh,
// the tests' own), builds the agent's image and starts a session attached
// to the terminal. With no model provider configured, Claude Code's own
// first-run screen is what the newcomer sees. C-b d then detaches, and the
// session is there to stop.
func TestMakeRunFromAFreshClone(t *testing.T) {
	if suite.paudeBin == "" {
		t.Skip(suite.paudeSkip)
	}
	clone := filepath.Join(t.TempDir(), "paude")
	if out, err := exec.Command("git", "clone", "--quiet", suite.repo, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	// The newcomer's internet is the suite's fake host: their proxy
	// reaches it under the providers' real names (PAUDE_PODMAN_PROXY_HOSTS),
	// and the project names the fake's CA for Claude Code, trusted once as
	// a user would. Offline, Claude Code's first run stops at its
	// connectivity check ("Unable to connect to Anthropic services") and
	// exits; with the fake it goes on to its onboarding and waits there.
	ws := fakeCAWorkspace(t)
	chownTree(t, ws, 1000, 1000)
	home := t.TempDir()
	hosts := make([]string, 0, len(providerNames))
	for _, n := range providerNames {
		hosts = append(hosts, n+"="+fakeIP)
	}
	goEnv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	// A newcomer's shell: Go on PATH, a home of their own; the Go caches
	// of this machine, so the clone builds as fast as a second build, and
	// no module proxy, to show the build needs none beyond the cache.
	env := []string{
		"PATH=" + filepath.Dir(goBinary(t)) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + home, "TERM=xterm-256color", "LANG=C.UTF-8",
		"GOCACHE=" + goEnv("GOCACHE"), "GOMODCACHE=" + goEnv("GOMODCACHE"), "GOPROXY=off",
		"CONTAINERS_CONF=" + os.Getenv("CONTAINERS_CONF"),
		"PAUDE_PODMAN_PROXY_HOSTS=" + strings.Join(hosts, ","),
	}
	trust := exec.Command(suite.paudeBin, "trust", "--yes")
	trust.Dir, trust.Env = ws, env
	if out, err := trust.CombinedOutput(); err != nil {
		t.Fatalf("paude trust --yes: %v\n%s", err, out)
	}
	term := newHostTerminal(t, clone, env)
	start := time.Now()
	term.typeLine("make run WORKSPACE=" + ws + "; echo MAKE-EXIT=$?")
	// Claude Code's first run greets, checks that it reaches Anthropic,
	// then asks for a text style: the screen a newcomer works from.
	term.waitFor(`(?i)welcome to claude`, 10*time.Minute)
	term.waitFor(`(?i)text style`, time.Minute)
	t.Logf("MEASURE make run to Claude Code's first screen: %s", time.Since(start).Round(100*time.Millisecond))
	t.Logf("the screen:\n%s", term.screen())
	out, _ := os.ReadFile(term.output)
	for _, want := range []string{"Starting a paude session for " + ws, "Claude Code will ask you to log in inside the session"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the terminal never said %q", want)
		}
	}
	term.keys("C-b", "d")
	term.waitFor(`MAKE-EXIT=0`, time.Minute)
	u := newPaudeUser(t)
	u.home = home
	stdout, _, code := u.run(ws, "sessions", "--no-headers")
	if code != 0 || !strings.Contains(stdout, "running") {
		t.Fatalf("after the detach, sessions: %q (exit %d)", stdout, code)
	}
	if _, stderr, code := u.run(ws, "stop", "--all"); code != 0 {
		t.Fatalf("stop --all: exit %d: %s", code, stderr)
	}
}

// goBinary is the go command the tests run with.
func goBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go on PATH: %v", err)
	}
	return p
}
