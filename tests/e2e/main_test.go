//go:build e2e

// Package e2e runs paude's Podman backend against real rootful podman,
// squid and tmux: real sessions, attacked from inside, driven through a
// real terminal. Run it with hack/podman/test-e2e.sh (make test-e2e).
//
// The suite re-executes itself in a private mount namespace where
// /etc/resolv.conf names the suite's logging resolver first: a DNS query
// that leaks out of a container is seen there, and no real resolver is
// ever asked by a container on a DNS-enabled network. The fake internet
// host lives on a TEST-NET network (198.51.100.0/24), so nothing a test
// sends is addressed to a real host.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend/podman"
	"github.com/paude-dev/paude/tests/fakeapi"
)

const (
	isolatedEnv = "PAUDE_E2E_ISOLATED"
	// dnsLogAddr is where the logging resolver listens: first in the
	// namespace's resolv.conf, on loopback so podman never hands it to a
	// container itself (it drops loopback resolvers).
	dnsLogAddr = "127.0.0.2:53"

	fakeNet    = "paude-e2e-internet"
	fakeSubnet = "198.51.100.0/24"
	fakeIP     = "198.51.100.10"
	// proxyDNSAddr is the fake network's gateway, where the proxy's
	// resolver listens.
	proxyDNSAddr = "198.51.100.1:53"
	fakeHost     = "paude-e2e-fakehost"
	fakeImage    = "localhost/paude-e2e-fakehost:latest"
	suiteLabel   = "paude-e2e"
	allowedName  = "allowed.test"
	allowedSub   = "sub.allowed.test"
	blockedName  = "blocked.test"
	rebindName   = "rebind.allowed.test" // an allowed name resolving to loopback
	outsideName  = "exfil.invalid"
	readyTimeout = 90 * time.Second
)

// suite holds what TestMain prepared.
var suite struct {
	// skip is why the suite cannot run here ("" when it can): a missing
	// prerequisite. broken is a setup that failed although the
	// prerequisites were there: every test fails with it.
	skip, broken string
	// repo is the repository root.
	repo string
	// dns is the logging stand-in for the host's resolver.
	dns *dnsLog
	// proxyDNS is the proxy's resolver: it answers the test names with
	// the fake host and logs what squid looked up.
	proxyDNS *dnsLog
	// stateDir is the backend's StateDir for every test.
	stateDir string
	// paudeBin is the built paude binary, "" when it does not build yet;
	// paudeSkip says why.
	paudeBin, paudeSkip string
	// caPEM is the file of the CA that signs the fake model endpoints'
	// certificate (tests/fakeapi), for NODE_EXTRA_CA_CERTS.
	caPEM string
	// gitConfig is the global git configuration of every host git the
	// suite and paude run (GIT_CONFIG_GLOBAL).
	gitConfig string
}

// providerNames are the model providers' real host names, which the
// proxy's resolver answers with the fake host, where tests/fakeapi serves
// them over TLS its CA signs (storage.googleapis.com only shows that the
// default allowlist refuses it).
var providerNames = []string{
	fakeapi.AnthropicAPIHost, fakeapi.ClaudeTokenHost, fakeapi.GoogleTokenHost,
	fakeapi.VertexGlobalHost, fakeapi.VertexHost("us-east5"),
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	wd, _ := os.Getwd()
	suite.repo = filepath.Clean(filepath.Join(wd, "..", ".."))
	if os.Getenv(isolatedEnv) != "1" {
		if reason := hostPrerequisites(); reason != "" {
			suite.skip = reason
			return m.Run()
		}
		return reexecIsolated()
	}
	cleanup, err := setUp()
	if err != nil {
		var p prerequisiteError
		if errors.As(err, &p) {
			suite.skip = err.Error()
		} else {
			suite.broken = "e2e setup failed: " + err.Error()
		}
	}
	code := m.Run()
	if cleanup != nil {
		cleanup()
	}
	return code
}

// hostPrerequisites says what is missing to run the suite at all.
func hostPrerequisites() string {
	if os.Geteuid() != 0 {
		return "the Podman e2e suite needs root (rootful podman, mount namespaces): run hack/podman/test-e2e.sh as root"
	}
	for _, tool := range []string{"podman", "tmux", "unshare", "busybox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed: run hack/podman/install.sh"
		}
	}
	return ""
}

// reexecIsolated runs this test binary again inside a private mount
// namespace (unshare -m) and returns its exit code.
func reexecIsolated() int {
	args := append([]string{"-m", "--propagation", "slave", "--", os.Args[0]}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), isolatedEnv+"=1")
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "failed to re-run the suite in a mount namespace: %v\n", err)
		return 1
	}
	return 0
}

// setUp prepares the namespace, the resolver, podman, the fake internet
// and the paude binary. The returned cleanup undoes what it started.
func setUp() (func(), error) {
	var undo []func()
	cleanup := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	if err := isolateResolver(); err != nil {
		return cleanup, err
	}
	d, err := startDNSLog(dnsLogAddr, nil)
	if err != nil {
		return cleanup, fmt.Errorf("failed to start the logging resolver: %w", err)
	}
	suite.dns = d
	undo = append(undo, d.Close, killOwnAardvark)

	if out, err := podmanCmd("info", "--format", "{{.Host.OCIRuntime.Name}}"); err != nil {
		return cleanup, prerequisiteError(fmt.Sprintf("podman does not work (run hack/podman/install.sh and export CONTAINERS_CONF): %v: %s", err, out))
	}
	for _, img := range []string{"docker.io/library/debian:bookworm-slim"} {
		if _, err := podmanCmd("image", "exists", img); err != nil {
			return cleanup, prerequisiteError("base image " + img + " is missing: run hack/podman/install.sh")
		}
	}
	removeLeftovers()
	undo = append(undo, removeLeftovers)
	dir, err := os.MkdirTemp("", "paude-e2e-state-")
	if err != nil {
		return cleanup, err
	}
	suite.stateDir = dir
	undo = append(undo, func() { os.RemoveAll(dir) })
	if err := hostGitConfig(dir); err != nil {
		return cleanup, err
	}
	certs := filepath.Join(dir, "certs")
	if err := os.Mkdir(certs, 0o755); err != nil {
		return cleanup, err
	}
	ca, err := fakeapi.NewCA()
	if err != nil {
		return cleanup, err
	}
	files, err := ca.WriteFiles(certs, providerNames...)
	if err != nil {
		return cleanup, err
	}
	suite.caPEM = files.CA
	if err := startFakeInternet(certs); err != nil {
		return cleanup, err
	}
	// The fake network's gateway is this host's address on its bridge,
	// which exists now that the fake host runs on it.
	names := map[string]string{allowedName: fakeIP, allowedSub: fakeIP, blockedName: fakeIP, rebindName: "127.0.0.1",
		"storage.googleapis.com": fakeIP}
	for _, n := range providerNames {
		names[n] = fakeIP
	}
	pd, err := startDNSLog(proxyDNSAddr, names)
	if err != nil {
		return cleanup, fmt.Errorf("failed to start the proxy's resolver: %w", err)
	}
	suite.proxyDNS = pd
	undo = append(undo, pd.Close)
	suite.paudeBin, suite.paudeSkip = buildPaude(dir)
	return cleanup, nil
}

// hostGitConfig gives every host git of the suite, and of the paude it
// runs, one global configuration: the workspaces belong to the agent's
// user (uid 1000), not to root who runs the suite, so git needs
// safe.directory to read them, as it does for any repository owned by
// someone else.
func hostGitConfig(dir string) error {
	suite.gitConfig = filepath.Join(dir, "gitconfig")
	cfg := "[safe]\n\tdirectory = *\n[user]\n\tname = e2e host\n\temail = host@example.invalid\n[init]\n\tdefaultBranch = main\n"
	if err := os.WriteFile(suite.gitConfig, []byte(cfg), 0o644); err != nil {
		return err
	}
	return os.Setenv("GIT_CONFIG_GLOBAL", suite.gitConfig)
}

// isolateResolver points this mount namespace's resolv.conf at the
// logging resolver first (the real ones stay behind it, so builds can
// still reach the apt mirror and npm), and gives netavark a private run
// directory so any aardvark-dns it starts is our own.
func isolateResolver() error {
	orig, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "nameserver %s\n", strings.TrimSuffix(dnsLogAddr, ":53"))
	for _, line := range strings.Split(string(orig), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "nameserver" {
			b.WriteString(line + "\n")
		}
	}
	f, err := os.CreateTemp("", "paude-e2e-resolv-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(b.String()); err != nil {
		return err
	}
	f.Close()
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	if err := syscall.Mount(f.Name(), "/etc/resolv.conf", "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("failed to bind-mount resolv.conf: %w", err)
	}
	if err := os.MkdirAll("/run/containers/networks", 0o755); err != nil {
		return err
	}
	if err := syscall.Mount("tmpfs", "/run/containers/networks", "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("failed to mount a private netavark run directory: %w", err)
	}
	return nil
}

// killOwnAardvark ends the aardvark-dns that netavark may have started in
// this mount namespace, by PID, leaving any other alone.
func killOwnAardvark() {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "aardvark-dns" {
			continue
		}
		if ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "mnt")); err == nil && ns == self {
			var pid int
			if _, err := fmt.Sscan(e.Name(), &pid); err == nil {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	}
}

// removeLeftovers removes every paude and suite object, so each run
// starts clean (and ends clean).
func removeLeftovers() {
	removePaude()
	if out, err := podmanCmd("ps", "-aq", "--filter", "label=app="+suiteLabel); err == nil && strings.TrimSpace(out) != "" {
		_, _ = podmanCmd(append([]string{"rm", "-f", "-t", "0"}, strings.Fields(out)...)...)
	}
	for _, n := range []string{fakeNet, "paude-e2e-leaky"} {
		_, _ = podmanCmd("network", "rm", "-f", n)
	}
	// The tests' workspaces are temporary: so are their state and venv
	// volumes. Images replaced by a rebuild are dropped too.
	if out, err := podmanCmd("volume", "ls", "-q", "--filter", "label=app=paude"); err == nil && strings.TrimSpace(out) != "" {
		_, _ = podmanCmd(append([]string{"volume", "rm", "-f"}, strings.Fields(out)...)...)
	}
	_, _ = podmanCmd("rmi", "-f", fakeImage)
	_, _ = podmanCmd("image", "prune", "-f", "--filter", "label=app=paude")
}

// removePaude removes every paude session, the proxy and the network.
func removePaude() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_ = podman.New(podman.Options{}).StopAll(ctx)
}

// podmanCmd runs podman and returns its combined output.
func podmanCmd(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "podman", args...).CombinedOutput()
	return string(out), err
}

// prerequisiteError is a setup failure that means "cannot run here".
type prerequisiteError string

func (e prerequisiteError) Error() string { return string(e) }

// need skips the test when the suite cannot run here, or fails it under
// PAUDE_REQUIRE_ALL=1; a broken setup fails it.
func need(t *testing.T) {
	t.Helper()
	if suite.broken != "" {
		t.Fatal(suite.broken)
	}
	if suite.skip == "" {
		return
	}
	if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
		t.Fatalf("PAUDE_REQUIRE_ALL=1 but %s", suite.skip)
	}
	t.Skip(suite.skip)
}

// needPaude is need plus the built paude binary.
func needPaude(t *testing.T) string {
	t.Helper()
	need(t)
	if suite.paudeBin == "" {
		if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
			t.Fatalf("PAUDE_REQUIRE_ALL=1 but %s", suite.paudeSkip)
		}
		t.Skip(suite.paudeSkip)
	}
	return suite.paudeBin
}
