//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// agentIP is a session's agent's address on its network.
func agentIP(t *testing.T, id string) string {
	t.Helper()
	var nets map[string]struct{ IPAddress string }
	inspectJSON(t, "paude-"+id, "{{json .NetworkSettings.Networks}}", &nets)
	ip := nets["paude-net-"+id].IPAddress
	if ip == "" || len(nets) != 1 {
		t.Fatalf("session %s's networks: %v, want only paude-net-%s", id, nets, id)
	}
	return ip
}

// proxyOf is the proxy container a session uses, from its label.
func proxyOf(t *testing.T, id string) string {
	t.Helper()
	var labels map[string]string
	inspectJSON(t, "paude-"+id, "{{json .Config.Labels}}", &labels)
	return "paude-proxy-" + labels["paude.io/proxy-config"]
}

// listenInAgent starts a TCP server in the session's agent on port that
// answers with a line naming the session.
func listenInAgent(t *testing.T, id string, port int) {
	t.Helper()
	mustInAgent(t, id, fmt.Sprintf(`setsid perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalPort=>%d,Listen=>5,ReuseAddr=>1) or die; while($c=$s->accept){print $c "hello-from-%s\n"; close $c}' </dev/null >/dev/null 2>&1 &
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/%d) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`, port, id, port))
}

// TestSessionsIsolatedFromEachOther starts three sessions with the built
// paude: A and C allow allowed.test, B allows blocked.test. Each reaches
// only its own domains; A and C share one proxy, B has another; and no
// agent can connect to another's container, though the proxy that serves
// both A and C is on both their networks. The controls: the proxies do
// reach the listeners the agents cannot.
func TestSessionsIsolatedFromEachOther(t *testing.T) {
	u := newPaudeUser(t)
	allow := func(domain string) map[string]any {
		return fakeAgentConfig(map[string]any{"network": map[string]any{"allowedDomains": []string{domain}}})
	}
	a := u.start(newWorkspace(t, allow(allowedName)))
	b := u.start(newWorkspace(t, allow(blockedName)))
	c := u.start(newWorkspace(t, allow(allowedName)))

	t.Run("each session reaches only its own domains", func(t *testing.T) {
		for id, want := range map[string]map[string]string{
			a: {allowedName: "200", blockedName: "403"},
			b: {allowedName: "403", blockedName: "200"},
		} {
			for name, code := range want {
				out, _ := inAgent(t, id, "curl -s -m 10 -o /dev/null -w '%{http_code}' http://"+name+"/")
				if strings.TrimSpace(out) != code {
					t.Errorf("session %s, %s: %q, want %s", id, name, out, code)
				}
			}
		}
	})
	t.Run("a proxy per allowlist", func(t *testing.T) {
		pa, pb, pc := proxyOf(t, a), proxyOf(t, b), proxyOf(t, c)
		if pa != pc || pa == pb {
			t.Errorf("proxies: A %s, B %s, C %s; want A and C to share one, B another", pa, pb, pc)
		}
		var nets map[string]any
		inspectJSON(t, pa, "{{json .NetworkSettings.Networks}}", &nets)
		if _, ok := nets["paude-net-"+a]; !ok {
			t.Errorf("%s is not on A's network: %v", pa, nets)
		}
		if _, ok := nets["paude-net-"+b]; ok {
			t.Errorf("%s, A's proxy, is on B's network: %v", pa, nets)
		}
	})
	t.Run("no agent reaches another's container", func(t *testing.T) {
		for _, id := range []string{a, b, c} {
			listenInAgent(t, id, 8080)
		}
		for _, pair := range [][2]string{{a, b}, {b, a}, {a, c}, {c, a}} {
			from, to := pair[0], pair[1]
			ip := agentIP(t, to)
			out, err := inAgent(t, from, fmt.Sprintf("timeout 5 bash -c 'exec 3<>/dev/tcp/%s/8080; cat <&3'", ip))
			if err == nil || strings.Contains(out, "hello-from") {
				t.Errorf("session %s reached session %s at %s: %s", from, to, ip, out)
			}
			// Nor through its proxy: an address is no name on an allowlist.
			out, _ = inAgent(t, from, fmt.Sprintf("curl -s -m 10 -o /dev/null -w '%%{http_code}' http://%s:8080/", ip))
			if strings.TrimSpace(out) != "403" {
				t.Errorf("session %s through its proxy to %s: %q, want 403", from, ip, out)
			}
		}
		// Control: the same listeners answer whoever is on their network.
		for _, id := range []string{a, c} {
			out, err := podmanCmd("exec", proxyOf(t, id), "bash", "-c", fmt.Sprintf("timeout 5 bash -c 'exec 3<>/dev/tcp/%s/8080; cat <&3'", agentIP(t, id)))
			if err != nil || !strings.Contains(out, "hello-from-"+id) {
				t.Errorf("control: the proxy did not reach session %s's listener: %v: %s", id, err, out)
			}
		}
	})
	t.Run("stop keeps a proxy, cleanup removes the ones no session uses", func(t *testing.T) {
		pa, pb := proxyOf(t, a), proxyOf(t, b)
		u.must(u.home, "stop", b)
		if _, err := podmanCmd("container", "exists", pb); err != nil {
			t.Errorf("stop removed %s, which a later start with the same allowlist would reuse", pb)
		}
		if _, err := podmanCmd("network", "exists", "paude-net-"+b); err == nil {
			t.Errorf("stop left session %s's network", b)
		}
		out := u.must(u.home, "cleanup")
		if _, err := podmanCmd("container", "exists", pb); err == nil {
			t.Errorf("cleanup left %s, which no session uses:\n%s", pb, out)
		}
		if _, err := podmanCmd("container", "exists", pa); err != nil {
			t.Errorf("cleanup removed %s, which sessions %s and %s use:\n%s", pa, a, c, out)
		}
	})
}

// TestDefaultAllowlist starts a session with the built paude and no
// network.allowedDomains, on a host whose environment selects Vertex AI
// in us-east5: the agent reaches exactly Vertex AI's hosts. Google's other
// services, storage.googleapis.com (uploads to anyone's bucket) first, are
// refused; the controls reach the Vertex hosts through the same proxy.
func TestDefaultAllowlist(t *testing.T) {
	u := newPaudeUser(t, "CLAUDE_CODE_USE_VERTEX=1", "CLOUD_ML_REGION=us-east5", "ANTHROPIC_VERTEX_PROJECT_ID=e2e-project")
	cfg := fakeAgentConfig(nil)
	delete(cfg, "network")
	ws := newWorkspace(t, cfg)
	id := u.start(ws)
	var domains string
	for _, want := range []struct {
		url, code string
	}{
		{"https://storage.googleapis.com/upload/storage/v1/b/x/o", "403"},
		{"http://storage.googleapis.com/", "403"},
		{"https://www.googleapis.com/", "403"},
		{"https://script.google.com/", "403"},
		{"https://api.anthropic.com/", "403"},
		// Controls: the provider's hosts reach the fake model endpoints.
		{"https://us-east5-aiplatform.googleapis.com/v1/nothing", "404"},
		{"https://oauth2.googleapis.com/nothing", "404"},
	} {
		out, _ := inAgent(t, id, "curl -s -k -m 10 -o /dev/null -w '%{http_code}%{http_connect}' "+want.url)
		got := strings.TrimSpace(out)
		if want.code == "403" && !strings.Contains(got, "403") || want.code != "403" && !strings.HasPrefix(got, want.code) {
			t.Errorf("%s: %q, want %s", want.url, got, want.code)
		}
		domains += want.url + " " + got + "\n"
	}
	t.Logf("from the agent:\n%s", domains)
	env := agentEnviron(t, id)
	for k, v := range map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "e2e-project",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1"} {
		if env[k] != v {
			t.Errorf("the agent's %s = %q, want %q", k, env[k], v)
		}
	}
	var dry strings.Builder
	out := u.must(ws, "--dry-run")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "acl allowed_domains") {
			dry.WriteString(line)
		}
	}
	if got := dry.String(); got != "acl allowed_domains dstdomain -n aiplatform.googleapis.com oauth2.googleapis.com us-east5-aiplatform.googleapis.com" {
		t.Errorf("the dry run's allowlist: %q", got)
	}
}
