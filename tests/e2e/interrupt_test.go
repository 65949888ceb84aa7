//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/image"
)

// TestInterruptedStartLeavesNothing presses C-c on `paude` while its
// image build is running, as a user who changed their mind would: paude
// exits 130 saying it was interrupted, and no build container, image,
// container, network or volume is left behind.
func TestInterruptedStartLeavesNothing(t *testing.T) {
	u := newPaudeUser(t)
	// The marker is computed by the step, so podman's echo of the step
	// itself ("STEP 5/9: RUN ...") does not match it: only the running
	// step prints it.
	n := rand.Uint64()
	marker := fmt.Sprintf("E2E-SLOW-STEP-42-%d", n)
	cfgJSON := fakeAgentConfig(nil)
	cfgJSON["agent"].(map[string]any)["install"] = fakeAgentInstall + fmt.Sprintf("echo E2E-SLOW-STEP-$((6*7))-%d\nsleep 600\n", n)
	ws := newWorkspace(t, cfgJSON)
	plan, err := image.WorkspaceRecipe(loadConfig(t, ws))
	if err != nil {
		t.Fatal(err)
	}
	u.must(ws, "trust", "--yes")
	before := allPodmanObjects(t)

	var stderr syncBuffer
	cmd := exec.Command(u.bin)
	cmd.Dir = ws
	cmd.Env = u.env
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slow build step", 5*time.Minute, func() bool { return strings.Contains(stderr.String(), marker) })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-time.After(2 * time.Minute): // a hung paude, not a performance bound
		_ = cmd.Process.Kill()
		t.Fatalf("paude did not end after C-c; stderr:\n%s", tail(stderr.String(), 30))
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit: %v, want exit code 130", werr)
	}
	if !strings.Contains(stderr.String(), "error: interrupted by SIGINT") {
		t.Errorf("stderr does not say it was interrupted:\n%s", tail(stderr.String(), 20))
	}
	if _, err := podmanCmd("image", "exists", plan.Tag); err == nil {
		t.Errorf("the interrupted build left image %s", plan.Tag)
		_, _ = podmanCmd("rmi", "-f", plan.Tag)
	}
	// podman removes an interrupted build's container on its way out,
	// which can take a moment after paude has returned.
	var after []string
	deadline := time.Now().Add(time.Minute)
	for {
		after = allPodmanObjects(t)
		if slices.Equal(before, after) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !slices.Equal(before, after) {
		t.Errorf("the interrupted start left objects behind:\nbefore %q\nafter  %q", before, after)
	}
}
