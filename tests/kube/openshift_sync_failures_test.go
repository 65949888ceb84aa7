//go:build integration

package kube_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// klogLine is a klog error or warning line (E1206 17:16:56.315939 ...).
var klogLine = regexp.MustCompile(`[EW]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+\.go:\d+\]`)

// attachOutcome waits after an outage for the attach to show which way
// it went: still attached (the agent answers what is typed) or ended with
// the message that says so. It returns true when the attach ended.
func attachOutcome(t *testing.T, term *terminal, marker string) (ended bool) {
	t.Helper()
	probe := "alive-$((3*3))-" + marker
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		screen := term.screen()
		if m := exitRE.FindStringSubmatch(screen); m != nil {
			if !regexp.MustCompile(`lost the connection to session \S+ \(.*\): the session keeps running; .*attach \S+. reconnects to it`).MatchString(screen) &&
				!strings.Contains(screen, "ended by signal") {
				t.Errorf("the attach ended (exit %s) without saying the session keeps running:\n%s", m[1], screen)
			}
			t.Logf("the attach ended, exit %s; screen:\n%s", m[1], strings.TrimSpace(screen))
			return true
		}
		if strings.Contains(screen, "alive-9-"+marker) {
			t.Log("the attach recovered")
			return false
		}
		term.send("echo "+probe, "Enter")
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("after the outage the attach neither recovered nor ended; screen:\n%s", term.screen())
	return false
}

// outage runs a session attached from a terminal through an outage
// (cause), with files changed on both sides during it: afterwards the
// attach has recovered or ended with a clear message, a reattach finds
// the same tmux screen, and sync has carried every change.
func outage(t *testing.T, u *syncUser, cause func(term *terminal, id string, during func())) {
	id := u.start()
	term := u.terminal()
	term.run(u.attachArgv(id)...)
	term.waitFor("FAKE AGENT READY")
	marker := randomSuffix()
	term.send("echo screen-$((40+2))-"+marker, "Enter")
	term.waitFor("screen-42-" + marker)
	u.write("before.txt", "before\n")
	eventually(t, "sync to run", func() bool { s, _ := u.podHas(id, "before.txt"); return s == "before\n" })

	cause(term, id, func() {
		u.write("host-during.txt", "host during the outage\n")
	})
	ended := attachOutcome(t, term, marker)
	// client-go's logs of the dropped streams are not for the user.
	if screen := term.screen(); strings.Contains(screen, "UnhandledError") || klogLine.MatchString(screen) {
		t.Errorf("client-go's log lines reached the terminal:\n%s", screen)
	}
	if ended {
		term.run(u.attachArgv(id)...)
	}
	term.waitFor("screen-42-" + marker)
	t.Logf("MEASURE both sides in step after the outage within %s", eventually(t, "the changes made during the outage to cross", func() bool {
		h, _ := u.podHas(id, "host-during.txt")
		p, _ := u.local("pod-during.txt")
		return h == "host during the outage\n" && p == "pod during the outage\n"
	}))
	term.send("C-b", "d")
	if code := term.waitExit(); code != 0 {
		t.Errorf("detach after the outage: exit %d", code)
	}
	u.mustPaude("stop", id)
}

// podChangeLater makes the agent change a file in after, while the test
// cannot reach the pod (the API is cut, or the test waits).
func (u *syncUser) podChangeLater(id string, after time.Duration) {
	u.t.Helper()
	u.inPod(id, fmt.Sprintf(`setsid nohup sh -c 'sleep %d; echo "pod during the outage" > pod-during.txt' >/dev/null 2>&1 </dev/null &`, int(after.Seconds())))
}

// TestOpenShiftSyncSurvivesAPIDrop cuts the traffic to the API server
// for 60 s while a terminal is attached and sync runs; meanwhile the host
// and the agent each change a file. It must not run in parallel with
// other tests: the cut is every client's.
func TestOpenShiftSyncSurvivesAPIDrop(t *testing.T) {
	u := newSyncUser(t, "drop")
	outage(t, u, func(term *terminal, id string, during func()) {
		u.podChangeLater(id, 20*time.Second)
		start := time.Now()
		restore := u.c.DropAPIServer(t, 60*time.Second)
		// Control: the cut holds (this test's own client is cut too).
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := u.c.Client.CoreV1().Namespaces().Get(ctx, u.ns, metav1.GetOptions{})
		cancel()
		if err == nil {
			t.Fatal("the API server answered during the cut")
		}
		during()
		time.Sleep(60*time.Second - time.Since(start))
		restore()
	})
}

// TestOpenShiftSyncSurvivesSleep stops the attached kubectl-paude
// process (SIGSTOP, as a laptop's sleep) for five minutes while the host
// and the agent change files, then continues it.
func TestOpenShiftSyncSurvivesSleep(t *testing.T) {
	t.Parallel()
	u := newSyncUser(t, "sleep")
	outage(t, u, func(term *terminal, id string, during func()) {
		pid := term.signal(syscall.SIGSTOP)
		t.Logf("stopped kubectl-paude (pid %d) for 5 minutes", pid)
		u.inPod(id, `echo "pod during the outage" > pod-during.txt`)
		during()
		time.Sleep(5 * time.Minute)
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	})
}
