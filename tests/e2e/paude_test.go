//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// paudeUser is a person using the built paude binary: a HOME of their
// own (credentials, trust records, paude's state), the suite's podman
// settings, and the host's git configuration the suite uses.
type paudeUser struct {
	t    *testing.T
	bin  string
	home string
	// env is the environment of every paude the user runs.
	env []string
}

// newPaudeUser is a user with an empty HOME whose proxy resolves the test
// names (and the model providers' real ones) to the fake host from its
// /etc/hosts alone, never asking a DNS server. extra are more variables
// ("NAME=value").
func newPaudeUser(t *testing.T, extra ...string) *paudeUser {
	t.Helper()
	bin := needPaude(t)
	home := t.TempDir()
	hosts := []string{allowedName + "=" + fakeIP, allowedSub + "=" + fakeIP, blockedName + "=" + fakeIP,
		"storage.googleapis.com=" + fakeIP}
	for _, n := range providerNames {
		hosts = append(hosts, n+"="+fakeIP)
	}
	env := []string{
		"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"),
		"HOME=" + home, "TERM=xterm-256color", "LANG=C.UTF-8",
		"CONTAINERS_CONF=" + os.Getenv("CONTAINERS_CONF"),
		"GIT_CONFIG_GLOBAL=" + suite.gitConfig,
		"PAUDE_PODMAN_PULL=never",
		"PAUDE_PODMAN_PROXY_HOSTS=" + strings.Join(hosts, ","),
	}
	return &paudeUser{t: t, bin: bin, home: home, env: append(env, extra...)}
}

// run runs paude in dir with stdin closed (no terminal) and returns its
// output streams and exit code.
func (u *paudeUser) run(dir string, args ...string) (stdout, stderr string, code int) {
	u.t.Helper()
	cmd := exec.Command(u.bin, args...)
	cmd.Dir, cmd.Env = dir, u.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		u.t.Fatalf("paude %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// must is run that fails the test unless paude exits 0; it returns
// stdout and stderr together.
func (u *paudeUser) must(dir string, args ...string) string {
	u.t.Helper()
	out, errOut, code := u.run(dir, args...)
	if code != 0 {
		u.t.Fatalf("paude %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out + errOut
}

// start trusts the workspace's configuration and starts a detached
// session there; the session is stopped when the test ends.
func (u *paudeUser) start(ws string, args ...string) string {
	u.t.Helper()
	u.must(ws, "trust", "--yes")
	out, errOut, code := u.run(ws, append([]string{"--detach"}, args...)...)
	if code != 0 {
		u.t.Fatalf("paude --detach: exit %d\n%s", code, errOut)
	}
	id := strings.TrimSpace(out)
	u.t.Cleanup(func() {
		// Not in the workspace: a subtest's workspace is gone by now.
		if _, errOut, code := u.run(u.home, "stop", id); code != 0 {
			u.t.Errorf("paude stop %s: exit %d\n%s", id, code, errOut)
		}
	})
	return id
}

// gitOut runs host git in dir with the suite's configuration and returns
// its output, failing the test when it fails.
func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := hostGit(dir, nil, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// hostGit runs host git in dir, as the user would in a shell: the
// suite's global configuration, and env added.
func hostGit(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GIT_CONFIG_GLOBAL="+suite.gitConfig), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustJSON is v as indented JSON.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}
