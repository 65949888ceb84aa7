//go:build e2e

package fakeapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sandbox is one Claude Code run's world: the fake, a TLS listener for it,
// the recording proxy and resolver, and a HOME of its own.
type sandbox struct {
	fake     *Server
	proxy    *connectProxy
	resolver *resolver
	home     string
	env      []string // the whole environment claude gets
}

// sandboxOptions says how open the world is.
type sandboxOptions struct {
	// allow is the proxy's allowlist; nil allows every name.
	allow []string
	// direct makes the resolver answer 127.0.0.1 for every name and the
	// fake listen on 127.0.0.1:443 too, so traffic that bypasses the
	// proxy is seen (and answered) rather than failing at the lookup.
	direct bool
}

// newSandbox starts the fake and its surroundings; claude's environment
// is only what is listed here and in env, never the test's own (which may
// hold real credentials).
func newSandbox(t *testing.T, opts sandboxOptions, env ...string) *sandbox {
	t.Helper()
	requireSandbox(t)
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	caFile := filepath.Join(home, "fakeapi-ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	s := &sandbox{fake: NewServer(DefaultReply), home: home}
	fakeAddr := serveTLS(t, "127.0.0.1:0", s.fake, ca)
	if opts.direct {
		serveTLS(t, "127.0.0.1:443", s.fake, ca)
	}
	s.resolver = startResolver(t, opts.direct)
	var proxyURL string
	s.proxy, proxyURL = startProxy(t, fakeAddr, opts.allow)
	s.env = append([]string{
		"HOME=" + home, "PATH=/usr/local/bin:/usr/bin:/bin", "TERM=dumb", "LANG=C.UTF-8",
		"NODE_EXTRA_CA_CERTS=" + caFile,
		// paude's agent environment, from pkg/backend/podman/env.go.
		"HTTPS_PROXY=" + proxyURL, "HTTP_PROXY=" + proxyURL, "https_proxy=" + proxyURL, "http_proxy=" + proxyURL,
		"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1",
	}, env...)
	return s
}

// serveTLS serves h over TLS with certificates from ca until the test ends
// and returns the listener's address.
func serveTLS(t *testing.T, addr string, h http.Handler, ca *CA) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("failed to listen on %s in the sandbox: %v", addr, err)
	}
	// Handshakes that clients abandon are expected (the control without
	// the CA); the log would only be noise in the test output.
	srv := &http.Server{Handler: h, TLSConfig: ca.TLSConfig(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// writeHomeFile writes a file under the sandbox's HOME.
func (s *sandbox) writeHomeFile(t *testing.T, rel string, data []byte) string {
	t.Helper()
	path := filepath.Join(s.home, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// claudeResult is what one `claude` run left.
type claudeResult struct {
	stdout, stderr string
	err            error
	took           time.Duration
}

// runClaude runs the Claude Code binary with args in a scratch working
// directory, with the sandbox's environment and no terminal: print mode
// must not prompt, and a prompt would hang until the timeout.
func (s *sandbox) runClaude(t *testing.T, args ...string) claudeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, claudeBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = s.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	started := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("claude did not finish in 3 minutes (prompting, or retrying?): %w", err)
	}
	return claudeResult{stdout: stdout.String(), stderr: stderr.String(), err: err, took: time.Since(started)}
}

// claudeVersion is the Claude Code release the suite installs and NOTES.md
// describes; PAUDE_CLAUDE_VERSION picks another (e.g. "latest"), and
// PAUDE_CLAUDE names a claude binary to use as it is.
const claudeVersion = "2.1.332"

// claudeCache is where the suite installs Claude Code from npm, once per
// version, outside the work tree.
const claudeCache = "/var/cache/paude-tools/claude-code"

// claudeBin is the Claude Code binary the tests run; "" when there is none
// and claudeErr says why.
var (
	claudeBin string
	claudeErr error
)

// findClaude resolves claudeBin before the suite enters the sandbox,
// where npm could not reach its registry.
func findClaude() (string, error) {
	if p := os.Getenv("PAUDE_CLAUDE"); p != "" {
		return p, nil
	}
	version := claudeVersion
	if v := os.Getenv("PAUDE_CLAUDE_VERSION"); v != "" {
		version = v
	}
	dir := filepath.Join(claudeCache, version)
	bin := filepath.Join(dir, "node_modules", ".bin", "claude")
	if _, err := os.Stat(bin); err == nil && version != "latest" {
		return bin, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", errors.New("npm is not installed, so Claude Code cannot be: install node and npm, or set PAUDE_CLAUDE to a claude binary")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("failed to make %s: %w", dir, err)
	}
	cmd := exec.Command(npm, "install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error",
		"@anthropic-ai/claude-code@"+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install @anthropic-ai/claude-code@%s: %w: %s", version, err, strings.TrimSpace(string(out)))
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("npm installed @anthropic-ai/claude-code@%s without a claude binary at %s", version, bin)
	}
	return bin, nil
}

// requireSandbox skips (or, under PAUDE_REQUIRE_ALL=1, fails) a test that
// needs Claude Code in the sandbox when either is missing.
func requireSandbox(t *testing.T) {
	t.Helper()
	reason := ""
	switch {
	case sandboxErr != nil:
		reason = sandboxErr.Error()
	case claudeErr != nil:
		reason = claudeErr.Error()
	case claudeBin == "":
		reason = "no Claude Code binary was found"
	}
	if reason != "" {
		failOrSkip(t, "cannot run Claude Code against the fake: "+reason)
	}
}
