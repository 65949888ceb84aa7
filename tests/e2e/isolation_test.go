//go:build e2e

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
)

// TestIsolation attacks the network from inside a real session's agent
// container: everything but the allowlist through the proxy must fail.
func TestIsolation(t *testing.T) {
	need(t)
	progress := &syncBuffer{}
	b := testBackend(t, progress, nil)
	ws := newWorkspace(t, fakeAgentConfig(nil))
	s := startSession(t, b, progress, backend.SessionSpec{Config: loadConfig(t, ws), Workspace: ws})

	denied := "X-Squid-Error: ERR_ACCESS_DENIED"
	tests := []struct {
		name   string
		script string
		ok     bool     // the script must succeed (true) or fail (false)
		want   []string // and print all of these
	}{
		{"direct TCP to the fake host fails", fmt.Sprintf("timeout 5 bash -c 'exec 3<>/dev/tcp/%s/80'", fakeIP), false,
			[]string{"Network is unreachable"}},
		{"direct HTTPS to the fake host fails", fmt.Sprintf("curl -sS -m 5 --noproxy '*' -k https://%s/", fakeIP), false, nil},
		{"the host's gateway address is unreachable", fmt.Sprintf("timeout 5 bash -c 'exec 3<>/dev/tcp/%s/22'", strings.TrimSuffix(fakeIP, ".10")+".1"), false,
			[]string{"Network is unreachable"}},
		{"allowed name over HTTP through the proxy is 200", "curl -sS -m 10 -w 'status=%{http_code}' http://" + allowedName + "/p", true,
			[]string{"fakehost says hello: host=" + allowedName + " path=/p", "status=200"}},
		{"allowed subdomain over HTTPS CONNECT is 200", "curl -sS -k -m 10 -w 'status=%{http_code}' https://" + allowedSub + "/s", true,
			[]string{"fakehost says hello: host=" + allowedSub + " path=/s", "status=200"}},
		{"a name not on the allowlist is 403", "curl -sS -m 10 -D - -o /dev/null http://" + blockedName + "/", true,
			[]string{"403 Forbidden", denied}},
		{"CONNECT to a name not on the allowlist is 403", "curl -sS -k -m 10 -w 'connect=%{http_connect}' https://" + blockedName + "/", false,
			[]string{"connect=403"}},
		{"CONNECT to a port other than 443 is 403", "curl -sS -k -m 10 -w 'connect=%{http_connect}' https://" + allowedName + ":8443/", false,
			[]string{"connect=403"}},
		{"an IP-literal URL is 403", fmt.Sprintf("curl -sS -m 10 -D - -o /dev/null http://%s/", fakeIP), true,
			[]string{"403 Forbidden", denied}},
		{"CONNECT to an IP literal is 403", fmt.Sprintf("curl -sS -k -m 10 -w 'connect=%%{http_connect}' https://%s/", fakeIP), false,
			[]string{"connect=403"}},
		{"an allowed name resolving to loopback is 403", "curl -sS -m 10 -D - -o /dev/null http://" + rebindName + "/", true,
			[]string{"403 Forbidden", denied}},
		{"the agent has no resolver", "grep -s nameserver /etc/resolv.conf", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := inAgent(t, s.ID, tt.script)
			if (err == nil) != tt.ok {
				t.Errorf("%s: succeeded=%v, want %v\n%s", tt.script, err == nil, tt.ok, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s: output lacks %q:\n%s", tt.script, w, out)
				}
			}
		})
	}

	t.Run("outside names do not resolve and no query leaves", func(t *testing.T) {
		leak := fmt.Sprintf("leak-%d.%s", rand.Uint32(), outsideName)
		if out, err := inAgent(t, s.ID, "getent hosts "+leak+" || getent ahosts "+leak); err == nil {
			t.Errorf("%s resolved inside the agent: %s", leak, out)
		}
		if suite.dns.waitSeen(leak, 2*time.Second) {
			t.Errorf("the query for %s reached the host's resolver", leak)
		}
	})

	t.Run("the proxy looks up allowed names only", func(t *testing.T) {
		// Squid refuses a name outside the allowlist before resolving it,
		// so the proxy is no DNS channel either. Its resolver (the
		// suite's) logs every lookup.
		proxied := fmt.Sprintf("viaproxy-%d.%s", rand.Uint32(), outsideName)
		for _, u := range []string{"http://" + proxied + "/", "https://" + proxied + "/"} {
			out, _ := inAgent(t, s.ID, "curl -s -k -m 10 -o /dev/null -w '%{http_code}%{http_connect}' "+u)
			if !strings.Contains(out, "403") {
				t.Errorf("request for %s through the proxy: %q, want 403", u, out)
			}
		}
		if suite.proxyDNS.waitSeen(proxied, time.Second) {
			t.Errorf("the proxy looked up %s, which is not on the allowlist", proxied)
		}
		if suite.proxyDNS.seen(blockedName) {
			t.Errorf("the proxy looked up %s, which is not on the allowlist", blockedName)
		}
		if !suite.proxyDNS.seen(allowedName) {
			t.Errorf("the proxy never looked up %s: its resolver is not the one the test controls", allowedName)
		}
	})

	t.Run("control: the leak detector sees queries", func(t *testing.T) {
		// A lookup by a host process goes to the logging resolver first.
		name := fmt.Sprintf("hostcontrol-%d.%s", rand.Uint32(), outsideName)
		_ = exec.Command("getent", "hosts", name).Run()
		if !suite.dns.waitSeen(name, 2*time.Second) {
			t.Fatalf("the logging resolver did not see %s: the DNS checks above prove nothing", name)
		}
	})

	t.Run("control: the leak detector sees a DNS-enabled internal network leak", func(t *testing.T) {
		// The same query from a container on an --internal network with
		// podman's DNS left on (the design paude avoids) reaches the
		// logging resolver through aardvark-dns: this proves the check
		// above would have caught a leak.
		const leaky = "paude-e2e-leaky"
		if out, err := podmanCmd("network", "create", "--internal", "--label", "app="+suiteLabel, leaky); err != nil {
			t.Fatalf("network create: %v: %s", err, out)
		}
		t.Cleanup(func() { _, _ = podmanCmd("network", "rm", "-f", leaky) })
		name := fmt.Sprintf("control-%d.%s", rand.Uint32(), outsideName)
		_, _ = podmanCmd("run", "--rm", "--pull=never", "--network", leaky, "--label", "app="+suiteLabel,
			"docker.io/library/debian:bookworm-slim", "getent", "hosts", name)
		if !suite.dns.waitSeen(name, 5*time.Second) {
			t.Skipf("aardvark-dns on this machine did not forward %s: the leak does not exist here", name)
		}
	})

	t.Run("a second session with the same allowlist shares the proxy", func(t *testing.T) {
		reuse := &syncBuffer{}
		startSession(t, testBackend(t, reuse, nil), reuse, backend.SessionSpec{Config: loadConfig(t, ws), Workspace: ws})
		if !strings.Contains(reuse.String(), "Using running proxy paude-proxy-") {
			t.Errorf("a start with the same allowlist did not join the running proxy:\n%s", reuse.String())
		}
	})

	t.Run("allow-network reaches the fake host directly", func(t *testing.T) {
		open := startSession(t, b, progress, backend.SessionSpec{Config: loadConfig(t, ws), Workspace: ws, AllowNetwork: true})
		out := mustInAgent(t, open.ID, fmt.Sprintf("env | grep -ci _proxy= || true; curl -sS -m 10 http://%s/direct", fakeIP))
		if !strings.Contains(out, "fakehost says hello: host="+fakeIP+" path=/direct") {
			t.Errorf("direct request failed:\n%s", out)
		}
		if !strings.HasPrefix(out, "0\n") {
			t.Errorf("proxy variables are set in --allow-network mode:\n%s", out)
		}
	})
}
