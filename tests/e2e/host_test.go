//go:build e2e

package e2e

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestIPv6LinkLocalToHost probes the host from a session's agent over
// IPv6 link-local, which needs no route: the host listens on [::] on all
// interfaces, the agent aims at the host's side of its network's bridge
// (fe80::…%eth0). The agent has no IPv6, so it cannot connect. The
// control is a plain container on the same network, which does.
func TestIPv6LinkLocalToHost(t *testing.T) {
	u := newPaudeUser(t)
	id := u.start(newWorkspace(t, fakeAgentConfig(nil)))
	ln, err := net.Listen("tcp6", "[::]:0")
	if err != nil {
		t.Skipf("the host has no IPv6 to listen on: %v", err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_, _ = c.Write([]byte("host-says-hello\n"))
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	out, err := podmanCmd("network", "inspect", "--format", "{{.NetworkInterface}}", "paude-net-"+id)
	if err != nil {
		t.Fatalf("network inspect: %v: %s", err, out)
	}
	bridge, err := net.InterfaceByName(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := bridge.Addrs()
	var ll string
	for _, a := range addrs {
		if ip, _, _ := net.ParseCIDR(a.String()); ip != nil && ip.To4() == nil && ip.IsLinkLocalUnicast() {
			ll = ip.String()
		}
	}
	if ll == "" {
		t.Skipf("the session network's bridge %s has no IPv6 link-local address (%v): nothing to reach", bridge.Name, addrs)
	}
	// Retried: a new interface's link-local address is unusable until
	// duplicate address detection is over (a second or two).
	probe := fmt.Sprintf("for i in $(seq 20); do timeout 2 bash -c 'exec 3<>/dev/tcp/%s%%eth0/%d; cat <&3' 2>/tmp/err && exit 0; sleep 0.25; done; cat /tmp/err; exit 1", ll, port)
	if out, err := inAgent(t, id, probe); err == nil || strings.Contains(out, "host-says-hello") {
		t.Errorf("the agent reached the host at [%s%%eth0]:%d: %s", ll, port, out)
	} else {
		t.Logf("from the agent: %s", strings.TrimSpace(out))
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the host's listener accepted %d connections from the agent", n)
	}
	// Control: a container without paude's setting, on the same network.
	var img string
	inspectJSON(t, "paude-"+id, "{{json .ImageName}}", &img)
	out, err = podmanCmd("run", "--rm", "--pull=never", "--network", "paude-net-"+id, "--label", "app="+suiteLabel,
		"--entrypoint", "bash", img, "-c", probe)
	if err != nil || !strings.Contains(out, "host-says-hello") || accepted.Load() == 0 {
		t.Errorf("control: a plain container on the session's network did not reach the host over IPv6 link-local: %v: %s", err, out)
	}
}

// TestStartRefusedInHome runs the built paude in the user's home and in
// the directory above it: both are refused before podman is asked
// anything, so ~/.ssh never reaches an agent. The control starts from a
// project below the home.
func TestStartRefusedInHome(t *testing.T) {
	u := newPaudeUser(t)
	mkFile(t, filepath.Join(u.home, ".ssh", "id_ed25519"), "not a real key\n")
	mkFile(t, filepath.Join(u.home, "paude.json"), mustJSON(t, fakeAgentConfig(nil)))
	chownTree(t, u.home, 1000, 1000)
	before := containersWithLabel(t, "paude.io/role=agent")
	for _, dir := range []string{u.home, filepath.Dir(u.home)} {
		_, errOut, code := u.run(dir, "--detach")
		if code != 1 || !strings.Contains(errOut, "refusing to start in "+dir) {
			t.Errorf("paude in %s: exit %d\n%s", dir, code, errOut)
		}
	}
	if after := containersWithLabel(t, "paude.io/role=agent"); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("a refused start created containers: %q", after)
	}
	project := filepath.Join(u.home, "src", "project")
	mkFile(t, filepath.Join(project, "paude.json"), mustJSON(t, fakeAgentConfig(nil)))
	chownTree(t, u.home, 1000, 1000)
	id := u.start(project)
	if out, err := inAgent(t, id, "ls "+filepath.Join(u.home, ".ssh")); err == nil {
		t.Errorf("the agent of a project below the home sees ~/.ssh: %s", out)
	}
}
