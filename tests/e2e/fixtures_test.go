//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// startFakeInternet builds the fake host's image (busybox and the static
// fakehost binary, no root file system build needed) and runs it on its
// own TEST-NET network at fakeIP, with the fake model endpoints'
// certificate and key from certs.
func startFakeInternet(certs string) error {
	dir, err := os.MkdirTemp("", "paude-e2e-fakehost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "root")
	for _, d := range []string{"bin", "usr/local/bin", "etc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(root, "usr/local/bin/fakehost"), "./fakehost")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("failed to build fakehost: %w: %s", err, out)
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("busybox-static is not installed: run hack/podman/install.sh")
	}
	if out, err := exec.Command("cp", busybox, filepath.Join(root, "bin/busybox")).CombinedOutput(); err != nil {
		return fmt.Errorf("failed to copy busybox: %w: %s", err, out)
	}
	for _, applet := range []string{"sh", "cat", "ls"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/:/bin/sh\n"), 0o644); err != nil {
		return err
	}
	imp := exec.Command("sh", "-c", fmt.Sprintf(
		"tar -C %q -c . | podman import --quiet --change 'ENTRYPOINT [\"/usr/local/bin/fakehost\"]' --change 'CMD [\"serve\"]' - %s",
		root, fakeImage))
	if out, err := imp.CombinedOutput(); err != nil {
		return fmt.Errorf("failed to import the fake host image: %w: %s", err, out)
	}
	if out, err := podmanCmd("network", "create", "--disable-dns", "--subnet", fakeSubnet,
		"--label", "app="+suiteLabel, fakeNet); err != nil {
		return fmt.Errorf("failed to create %s: %w: %s", fakeNet, err, out)
	}
	if out, err := podmanCmd("run", "-d", "--name", fakeHost, "--label", "app="+suiteLabel,
		"--network", fakeNet+":ip="+fakeIP, "-v", certs+":/certs:ro", "--pull=never", fakeImage); err != nil {
		return fmt.Errorf("failed to start the fake host: %w: %s", err, out)
	}
	// The fake host is up once it answers on :80 from inside its netns.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := podmanCmd("logs", fakeHost)
		if err == nil && strings.Contains(out, "fakehost serving :80") && strings.Contains(out, "fake model endpoints") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the fake host did not start: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// buildPaude builds cmd/paude into dir, or says why it cannot.
func buildPaude(dir string) (bin, why string) {
	if p := os.Getenv("PAUDE_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Sprintf("PAUDE_BIN=%s: %v", p, err)
		}
		return p, ""
	}
	bin = filepath.Join(dir, "paude")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/paude")
	cmd.Dir = suite.repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Sprintf("cmd/paude does not build: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return bin, ""
}
