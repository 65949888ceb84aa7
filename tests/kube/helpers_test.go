//go:build integration

package kube_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// convergeTimeout bounds waits for the cluster to act on a change (a
// policy, a Service); it is a deadline for a broken cluster, not a
// performance expectation.
const convergeTimeout = 90 * time.Second

// dial opens a TCP connection from pod ns/from to addr with the probe
// helper. With readBanner it also reads the server's banner line and
// returns it; without, a completed TCP handshake is success. It returns
// connected=false when that could not be done; any other failure (the exec
// itself) ends the test.
func dial(t *testing.T, c *kubetest.Cluster, ns, from, addr string, readBanner bool) (banner string, connected bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, errOut, err := c.ExecOutput(ctx, ns, from, "/bin/probe", "dial", "-timeout", "2s",
		fmt.Sprintf("-banner=%t", readBanner), addr)
	if err == nil {
		return strings.TrimSpace(out), true
	}
	if code, ok := kubetest.ExitCode(err); ok && code == 1 {
		return strings.TrimSpace(errOut), false
	}
	t.Fatalf("failed to run probe dial %s in pod %s/%s: %v (stderr %q)", addr, ns, from, err, errOut)
	return "", false
}

// expectReach dials addr once and checks the outcome. A reachable addr must
// answer with a banner containing wantBanner (unless that is empty: servers
// such as the API server send none). An unreachable one must not even
// complete the TCP handshake.
func expectReach(t *testing.T, c *kubetest.Cluster, ns, from, addr string, reachable bool, wantBanner string) {
	t.Helper()
	got, connected := dial(t, c, ns, from, addr, reachable && wantBanner != "")
	switch {
	case reachable && !connected:
		t.Errorf("%s -> %s: want a connection, got %s", from, addr, got)
	case reachable && !strings.Contains(got, wantBanner):
		t.Errorf("%s -> %s: connected but banner %q lacks %q", from, addr, got, wantBanner)
	case !reachable && connected:
		t.Errorf("%s -> %s: want no connection, but it connected and got %q", from, addr, got)
	}
}

// waitReach dials addr until its reachability is as wanted (the enforcer
// and kube-proxy act asynchronously), failing the test at the deadline.
func waitReach(t *testing.T, c *kubetest.Cluster, ns, from, addr string, reachable bool) {
	t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		got, connected := dial(t, c, ns, from, addr, false)
		if connected == reachable {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s -> %s: still connected=%v after %s (last: %s)", from, addr, connected, convergeTimeout, got)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// expectReachEventually is the control case's check: it waits until addr
// is reachable (as waitReach does, failing at the deadline) and then
// expects the banner, as expectReach does.
func expectReachEventually(t *testing.T, c *kubetest.Cluster, ns, from, addr, wantBanner string) {
	t.Helper()
	waitReach(t, c, ns, from, addr, true)
	expectReach(t, c, ns, from, addr, true, wantBanner)
}

// hostPort joins a pod or Service IP and a port.
func hostPort(ip string, port int) string { return fmt.Sprintf("%s:%d", ip, port) }
