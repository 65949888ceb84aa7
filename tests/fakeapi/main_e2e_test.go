//go:build e2e

package fakeapi

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// inSandboxEnv marks the copy of the test binary that runs inside the
// private network and mount namespaces; claudeErrEnv carries to it why no
// Claude Code binary was found outside.
const (
	inSandboxEnv = "PAUDE_FAKEAPI_SANDBOX"
	claudeErrEnv = "PAUDE_FAKEAPI_CLAUDE_ERROR"
)

// sandboxErr says why the tests that run Claude Code cannot run here; nil
// inside a working sandbox.
var sandboxErr error

// TestMain runs the suite again inside new network and mount namespaces
// (util-linux unshare, as root), where the only interface is loopback and
// /etc/resolv.conf names the suite's own recording resolver on 127.0.0.1:
// whatever Claude Code sends, it can reach only this process. Outside
// root the suite runs as is and the tests that start Claude Code skip
// (or fail under PAUDE_REQUIRE_ALL=1) with the reason.
func TestMain(m *testing.M) {
	if os.Getenv(inSandboxEnv) == "" {
		claudeBin, claudeErr = findClaude()
		code, err := runInSandbox()
		if err == nil {
			os.Exit(code)
		}
		sandboxErr = err
		os.Exit(m.Run())
	}
	claudeBin = os.Getenv("PAUDE_CLAUDE")
	if msg := os.Getenv(claudeErrEnv); msg != "" {
		claudeErr = errors.New(msg)
	}
	etc, err := setUpSandbox()
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to set up the private network namespace: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(etc)
	os.Exit(code)
}

// runInSandbox re-runs this test binary, with its arguments, under
// unshare; an error means it could not, and the caller runs unsandboxed.
func runInSandbox() (int, error) {
	if os.Geteuid() != 0 {
		return 0, errors.New("running Claude Code in a private network namespace needs root")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return 0, errors.New("util-linux unshare is not installed: apt-get install util-linux")
	}
	// A container without CAP_SYS_ADMIN refuses the namespaces: say so,
	// rather than report unshare's exit code as the suite's.
	if out, err := exec.Command(unshare, "--net", "--mount", "--propagation", "private", "--", "true").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("cannot make a private network namespace here: %w: %s", err, strings.TrimSpace(string(out)))
	}
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("failed to find the test binary: %w", err)
	}
	args := append([]string{"--net", "--mount", "--propagation", "private", "--", self}, os.Args[1:]...)
	cmd := exec.Command(unshare, args...)
	cmd.Env = append(os.Environ(), inSandboxEnv+"=1", "PAUDE_CLAUDE="+claudeBin)
	if claudeErr != nil {
		cmd.Env = append(cmd.Env, claudeErrEnv+"="+claudeErr.Error())
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("failed to run the suite under unshare: %w", err)
	}
	return 0, nil
}

// setUpSandbox brings loopback up and points the resolver at 127.0.0.1
// (where the tests' recorder listens) through a private bind mount, so no
// name lookup reaches the machine's resolver.
// It returns the directory holding the files it mounted.
func setUpSandbox() (string, error) {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return "", fmt.Errorf("ip link set lo up: %w: %s", err, out)
	}
	dir, err := os.MkdirTemp("", "paude-fakeapi-etc-")
	if err != nil {
		return "", err
	}
	files := map[string]string{
		"/etc/resolv.conf": "nameserver 127.0.0.1\noptions attempts:1 timeout:1\n",
		"/etc/hosts":       "127.0.0.1 localhost\n::1 localhost\n",
	}
	for target, content := range files {
		src := filepath.Join(dir, filepath.Base(target))
		if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
			return dir, err
		}
		if out, err := exec.Command("mount", "--bind", src, target).CombinedOutput(); err != nil {
			return dir, fmt.Errorf("mount --bind %s %s: %w: %s", src, target, err, out)
		}
	}
	return dir, nil
}
