//go:build integration

package kube_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// TestOpenShiftProgressOnATerminal runs `kubectl paude --detach` in a real
// terminal (a tmux pane) on a start that builds an image, pushes it and
// waits for the pod, and reads the pane as it changes: each long step
// shows as a bar that moves, with its elapsed time, and the push as
// podman's own bars with each layer's bytes. (Piped, the same start
// prints plain lines without escape sequences:
// TestOpenShiftImagesPushedOnceWithoutTheToken.)
func TestOpenShiftProgressOnATerminal(t *testing.T) {
	c := kubetest.Require(t)
	workspaceImage(t) // podman and the local base image
	ns := c.Namespace(t, restrictedNamespace)
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 1)
	settings := projectSettings(t, class)
	// An image no earlier run built, with a step slow enough to be seen:
	// the start has to build it.
	settings["agent"].(map[string]any)["install"] = fakeAgentInstall + "sleep 3 # progress test " + randomSuffix() + "\n"
	ws := writeWorkspace(t, map[string]string{"paude.json": mustJSON(t, settings)})
	u := newUserCLI(t, c, kubeconfig, ws)

	term := newTerminal(t, []string{"HOME=" + u.home, "KUBECONFIG=" + kubeconfig, "CONTAINERS_CONF=" + podmanConf,
		"PATH=" + u.pluginDir() + ":" + rootPath, "TERM=xterm-256color"})
	term.run("sh", "-c", `cd "$1" && exec "$2" paude --detach -n "$3"`, "sh", ws, u.kubectl, ns)
	frames := map[string]bool{}
	var order []string
	deadline := time.Now().Add(5 * time.Minute)
	for !exitRE.MatchString(term.screen()) {
		if time.Now().After(deadline) {
			t.Fatalf("the start did not end; screen:\n%s", term.screen())
		}
		s := term.screen()
		if !frames[s] {
			frames[s] = true
			order = append(order, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	final := term.screen()
	if code := term.waitExit(); code != 0 {
		t.Fatalf("kubectl paude --detach exited %d; screen:\n%s", code, final)
	}
	t.Logf("%d distinct screens; the last:\n%s", len(order), final)

	// A bar: the step's name, "[", fill, "]", then a count and the time.
	buildBar := regexp.MustCompile(`Building paude-workspace:\S+\s+\[[=>\-_ ]+\]\s+\d+/\d+`)
	podWait := regexp.MustCompile(`Waiting for pod paude-\S+\s+.*\d+s`)
	pushBar := regexp.MustCompile(`Copying blob \S+\s+.*\d+(\.\d+)? ?[KMG]?i?B`)
	checks := []struct {
		what string
		re   *regexp.Regexp
	}{
		{"a bar for the build", buildBar},
		{"podman's bar for the push, with bytes", pushBar},
		{"the pod wait with its elapsed time", podWait},
	}
	for _, ck := range checks {
		var seen []string
		for _, f := range order {
			if m := ck.re.FindString(f); m != "" {
				seen = append(seen, m)
			}
		}
		if len(seen) == 0 {
			t.Errorf("the terminal never showed %s", ck.what)
			continue
		}
		t.Logf("%s: first %q, last %q", ck.what, seen[0], seen[len(seen)-1])
	}
	// The build bar ended as done.
	if !regexp.MustCompile(`Building paude-workspace:\S+\s+done\s+\d+s`).MatchString(final) {
		t.Errorf("the build's bar did not end as done")
	}
	if strings.Contains(final, "\x1b") {
		t.Errorf("raw escape sequences on the screen: %q", final)
	}
	u.must("stop", "--all", "-n", ns)
}
