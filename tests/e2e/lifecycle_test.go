//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/pkg/podmancli"
)

// imageID is the ID of a local image.
func imageID(t *testing.T, ref string) string {
	t.Helper()
	out, err := podmanCmd("image", "inspect", "--format", "{{.Id}}", ref)
	if err != nil {
		t.Fatalf("image inspect %s: %v: %s", ref, err, out)
	}
	return strings.TrimSpace(out)
}

// TestImageCache checks that a second start builds nothing and that
// --rebuild builds again.
func TestImageCache(t *testing.T) {
	need(t)
	// A unique install snippet gives this run an image tag no earlier
	// run built.
	cfgJSON := fakeAgentConfig(nil)
	cfgJSON["agent"].(map[string]any)["install"] = fakeAgentInstall + fmt.Sprintf("# cache test %d\n", rand.Uint64())
	ws := newWorkspace(t, cfgJSON)
	cfg := loadConfig(t, ws)
	plan, err := image.WorkspaceRecipe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = podmanCmd("rmi", "-f", plan.Tag) })

	start := func(rebuild bool) (string, string) {
		t.Helper()
		progress := &syncBuffer{}
		b := testBackend(t, progress, nil)
		s := startSession(t, b, progress, backend.SessionSpec{Config: cfg, Workspace: ws, Rebuild: rebuild})
		if err := b.StopSession(context.Background(), s.ID); err != nil {
			t.Fatal(err)
		}
		return progress.String(), imageID(t, plan.Tag)
	}
	first, id1 := start(false)
	if !strings.Contains(first, "Building "+plan.Tag) || !strings.Contains(first, "STEP ") {
		t.Fatalf("the first start did not build %s:\n%s", plan.Tag, first)
	}
	second, id2 := start(false)
	if strings.Contains(second, "Building") || strings.Contains(second, "STEP ") {
		t.Errorf("the second start built something:\n%s", second)
	}
	if !strings.Contains(second, "Using image "+plan.Tag+" (already built)") || id2 != id1 {
		t.Errorf("the second start did not reuse %s (%s, then %s):\n%s", plan.Tag, id1, id2, second)
	}
	third, id3 := start(true)
	if !strings.Contains(third, "Building "+plan.Tag) || strings.Contains(third, "Using cache") {
		t.Errorf("--rebuild did not build %s from scratch:\n%s", plan.Tag, tail(third, 30))
	}
	if id3 == id1 {
		t.Errorf("--rebuild left the image as it was (%s)", id1)
	}
}

// TestBuildFailureLeavesNothing checks that a start whose image build
// fails reports the failing step and creates no container, network or
// volume.
func TestBuildFailureLeavesNothing(t *testing.T) {
	need(t)
	ws := newWorkspace(t, fakeAgentConfig(map[string]any{"packages": []string{"paude-e2e-no-such-package"}}))
	before := allPodmanObjects(t)
	progress := &syncBuffer{}
	b := testBackend(t, progress, nil)
	_, err := b.StartSession(context.Background(), backend.SessionSpec{Config: loadConfig(t, ws), Workspace: ws})
	if !podmancli.IsBuildError(err) {
		t.Fatalf("error = %v, want a build error", err)
	}
	if !strings.Contains(err.Error(), "apt-get install") || !strings.Contains(err.Error(), "exit status 100") {
		t.Errorf("the error does not name the failing step: %v", err)
	}
	if !strings.Contains(progress.String(), "Unable to locate package paude-e2e-no-such-package") {
		t.Errorf("the build output was not streamed:\n%s", tail(progress.String(), 20))
	}
	if after := allPodmanObjects(t); !slices.Equal(before, after) {
		t.Errorf("the failed start left objects behind:\nbefore %q\nafter  %q", before, after)
	}
}

// allPodmanObjects lists every container (build containers included),
// network and volume, sorted.
func allPodmanObjects(t *testing.T) []string {
	t.Helper()
	var all []string
	for _, args := range [][]string{
		{"ps", "-a", "--external", "--format", "container {{.Names}}"},
		{"network", "ls", "--format", "network {{.Name}}"},
		{"volume", "ls", "--format", "volume {{.Name}}"},
	} {
		out, err := podmanCmd(args...)
		if err != nil {
			t.Fatalf("podman %s: %v: %s", strings.Join(args, " "), err, out)
		}
		all = append(all, strings.Split(strings.TrimSpace(out), "\n")...)
	}
	slices.Sort(all)
	return all
}

// TestInvalidConfigRunsNoPodman runs the paude binary on a paude.json
// that validation rejects, with a podman on PATH that records its calls.
func TestInvalidConfigRunsNoPodman(t *testing.T) {
	bin := needPaude(t)
	real, err := exec.LookPath("podman")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls.log")
	wrapper := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %q\nexec %q \"$@\"\n", calls, real)
	if err := os.WriteFile(filepath.Join(dir, "podman"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	ws := newWorkspace(t, nil)
	mkFile(t, filepath.Join(ws, "paude.json"), "{\n  \"packages\": \"make\",\n  \"network\": {\"allowedDomains\": [\"*.evil\"]}\n}\n")
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = ws
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	out, code := run()
	if code == 0 || !strings.Contains(out, "paude.json:2:") {
		t.Errorf("paude on a bad paude.json: exit %d, output:\n%s", code, out)
	}
	if b, err := os.ReadFile(calls); err == nil {
		t.Errorf("podman was called for a rejected paude.json:\n%s", b)
	}
	// Control: the wrapper does see podman calls.
	if _, code := run("sessions"); code != 0 {
		t.Errorf("paude sessions failed with exit code %d", code)
	}
	if b, err := os.ReadFile(calls); err != nil || len(b) == 0 {
		t.Errorf("the podman wrapper saw no call from 'paude sessions': the check above proves nothing")
	}
}

// TestTimeouts checks that the idle timeout and the max lifetime from the
// configuration end the session's container, and that sessions shows why.
func TestTimeouts(t *testing.T) {
	need(t)
	for _, key := range []string{"idleTimeout", "maxLifetime"} {
		t.Run(key, func(t *testing.T) {
			ws := newWorkspace(t, fakeAgentConfig(map[string]any{"session": map[string]any{key: "3s"}}))
			progress := &syncBuffer{}
			b := testBackend(t, progress, nil)
			s := startSession(t, b, progress, backend.SessionSpec{Config: loadConfig(t, ws), Workspace: ws})
			var got backend.Session
			waitFor(t, "the session to stop", 60*time.Second, func() bool {
				sessions, err := b.ListSessions(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range sessions {
					if x.ID == s.ID {
						got = x
					}
				}
				return got.Status == backend.StatusStopped
			})
			if got.Reason != "idle timeout or max lifetime reached" {
				t.Errorf("stopped session reason = %q", got.Reason)
			}
			out, _ := podmanCmd("inspect", "--format", "{{.State.ExitCode}}", "paude-"+s.ID)
			if strings.TrimSpace(out) != "124" {
				t.Errorf("container exit code %q, want 124", out)
			}
			// paude cleanup removes the expired session and nothing else.
			var report bytes.Buffer
			if err := b.Cleanup(context.Background(), &report); err != nil {
				t.Fatalf("cleanup: %v", err)
			}
			if !strings.Contains(report.String(), "Removing session "+s.ID) {
				t.Errorf("cleanup report %q does not name %s", report.String(), s.ID)
			}
			if _, err := podmanCmd("container", "exists", "paude-"+s.ID); err == nil {
				t.Errorf("container paude-%s is still there after cleanup", s.ID)
			}
		})
	}
}

// TestPodmanErrors runs the paude binary where podman is missing, and
// where podman cannot start containers, and checks the messages say what
// is wrong and what to do.
func TestPodmanErrors(t *testing.T) {
	u := newPaudeUser(t)
	run := func(ws string, env ...string) (string, int) {
		u.must(ws, "trust", "--yes")
		cmd := exec.Command(u.bin)
		cmd.Dir = ws
		cmd.Env = append([]string{"HOME=" + u.home, "PAUDE_PODMAN_PULL=never"}, env...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	t.Run("podman missing", func(t *testing.T) {
		ws := newWorkspace(t, fakeAgentConfig(nil))
		out, code := run(ws, "PATH="+t.TempDir())
		if code != 1 || !strings.Contains(out, "podman is not installed") || !strings.Contains(out, "install Podman") {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
	})
	t.Run("podman cannot start containers", func(t *testing.T) {
		// Without the suite's containers.conf, podman's default rlimits
		// cannot be set on machines like this one (no CAP_SYS_RESOURCE).
		probe := exec.Command("podman", "run", "--rm", "--pull=never", "--network=none",
			"docker.io/library/debian:bookworm-slim", "true")
		probe.Env = withoutEnv(os.Environ(), "CONTAINERS_CONF")
		if out, err := probe.CombinedOutput(); err == nil || !strings.Contains(string(out), "rlimit") {
			t.Skipf("podman's defaults work on this machine, so they cannot fail here (%v)", err)
		}
		// Start from nothing, as on a fresh machine: objects made with the
		// working configuration are not this scenario.
		removePaude()
		before := containersWithLabel(t, "app=paude")
		ws := newWorkspace(t, fakeAgentConfig(nil))
		out, code := run(ws, withoutEnv(os.Environ(), "CONTAINERS_CONF", "HOME", "PAUDE_PODMAN_PULL")...)
		if code != 1 || !strings.Contains(out, "default_ulimits") || !strings.Contains(out, "CONTAINERS_CONF") {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
		if after := containersWithLabel(t, "app=paude"); !slices.Equal(before, after) {
			t.Errorf("the failed start left containers: before %q, after %q", before, after)
		}
		removePaude()
	})
}

// withoutEnv is env less the named variables.
func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}

// TestDetachAndSessionsJSON drives the built binary as a script would:
// `paude --detach` starts the workspace's session and prints only its ID;
// `paude sessions -o json` lists that ID as running; a second --detach
// finds the same session instead of starting another.
func TestDetachAndSessionsJSON(t *testing.T) {
	u := newPaudeUser(t)
	ws := newWorkspace(t, fakeAgentConfig(nil))
	u.must(ws, "trust", "--yes")
	run := func(args ...string) (string, string) {
		t.Helper()
		out, errOut, code := u.run(ws, args...)
		if code != 0 {
			t.Fatalf("paude %s: exit %d\nstderr:\n%s", strings.Join(args, " "), code, errOut)
		}
		return out, errOut
	}
	out, _ := run("--detach")
	id := strings.TrimSuffix(out, "\n")
	if backend.ValidateSessionID(id) != nil || strings.Contains(id, "\n") {
		t.Fatalf("--detach printed %q, want the session ID alone", out)
	}
	t.Cleanup(func() { _, _ = podmanCmd("rm", "-f", "-t", "0", "paude-"+id) })
	if status := strings.TrimSpace(mustInAgent(t, id, "/usr/local/bin/paude-entrypoint status")); status != "running" {
		t.Errorf("the agent is %q right after --detach returned", status)
	}

	out, _ = run("sessions", "-o", "json")
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			ID, Status, Workspace, Backend, Network string
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("sessions -o json is not JSON: %v\n%s", err, out)
	}
	found := false
	for _, s := range list.Items {
		if s.ID == id {
			found = true
			if s.Status != "running" || s.Workspace != ws || s.Backend != "podman" || s.Network != "proxy" {
				t.Errorf("session %+v", s)
			}
		}
	}
	if list.Kind != "SessionList" || !found {
		t.Errorf("sessions -o json lacks %s:\n%s", id, out)
	}

	again, stderr := run("--detach")
	if strings.TrimSpace(again) != id || !strings.Contains(stderr, "already running") {
		t.Errorf("a second --detach printed %q (stderr %q), want the running session %s", again, stderr, id)
	}
}
