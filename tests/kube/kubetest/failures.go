package kubetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// ctl runs hack/testbed/ctl.sh with args.
func (c *Cluster) ctl(args ...string) error {
	if c.ctlScript == "" {
		return fmt.Errorf("%s is not set: source the testbed's env file written by hack/testbed/up.sh", EnvCtl)
	}
	out, err := exec.Command(c.ctlScript, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ctl.sh %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// StopEnforcer stops the NetworkPolicy enforcer (kube-router) and removes
// every rule it made: until it runs again, no NetworkPolicy is enforced,
// as on a cluster whose network plugin ignores them. The returned function
// starts it again (it re-programs every policy shortly after; poll for the
// effect); it also runs when the test ends, failed or not. Tests that stop
// the enforcer must not run in parallel with others.
func (c *Cluster) StopEnforcer(t testing.TB) (restart func()) {
	t.Helper()
	var once sync.Once
	restart = func() {
		once.Do(func() {
			if err := c.ctl("enforcer-start"); err != nil {
				t.Errorf("failed to restart the NetworkPolicy enforcer: %v", err)
			}
		})
	}
	if err := c.ctl("enforcer-stop"); err != nil {
		// It may be half stopped: bring it back before failing.
		restart()
		t.Fatalf("failed to stop the NetworkPolicy enforcer: %v", err)
	}
	t.Cleanup(restart)
	return restart
}

// DropAPIServer drops every packet that clients in the testbed's network
// namespace (this test, kubectl, paude: whatever uses the test
// kubeconfigs) send to the API server, for d, and then lets them through
// again; requests hang and time out as on a lost network. The cluster's own
// components keep their path. The returned function restores the traffic
// early; it also runs when the test ends, failed or not.
func (c *Cluster) DropAPIServer(t testing.TB, d time.Duration) (restore func()) {
	t.Helper()
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	id := "kubetest-" + hex.EncodeToString(raw)
	var once sync.Once
	restore = func() {
		once.Do(func() {
			if err := c.ctl("api-restore", id); err != nil {
				t.Errorf("failed to restore traffic to the API server: %v", err)
			}
		})
	}
	if err := c.ctl("api-drop", id); err != nil {
		restore()
		t.Fatalf("failed to drop traffic to the API server: %v", err)
	}
	// After the test, the cleanup below has run and this call does nothing.
	time.AfterFunc(d, restore)
	t.Cleanup(restore)
	return restore
}
