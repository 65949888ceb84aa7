//go:build integration

package kube_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// networkProject is a project whose allowlist is the fake internet's
// allowed domain (and its subdomains, two of which resolve to a private
// and the metadata address) plus extra.
func networkProject(t *testing.T, c *kubetest.Cluster, class string, extra ...string) string {
	t.Helper()
	settings := projectSettings(t, class)
	settings["network"] = map[string]any{"allowedDomains": append([]string{"." + c.FakeInternet.Allowed}, extra...)}
	return writeWorkspace(t, map[string]string{"paude.json": mustJSON(t, settings)})
}

// tcpProbe connects to host:port with bash alone, ignoring any proxy
// variable, and prints OPEN or CLOSED.
func tcpProbe(host string, port int) string {
	return fmt.Sprintf(`timeout 5 bash -c 'exec 3<>/dev/tcp/%s/%d' 2>/dev/null && echo OPEN || echo CLOSED`, host, port)
}

// dnsQuery is a DNS query for an A record of name, as a printf format.
func dnsQuery(name string) string {
	var b strings.Builder
	b.WriteString(`\x4b\x1d\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00`)
	for _, label := range strings.Split(name, ".") {
		fmt.Fprintf(&b, `\x%02x%s`, len(label), label)
	}
	b.WriteString(`\x00\x00\x01\x00\x01`)
	return b.String()
}

// udpDNSProbe sends a DNS query for name over UDP to server:53 with bash
// alone and prints REPLY when an answer comes back, SILENT otherwise.
func udpDNSProbe(server, name string) string {
	return fmt.Sprintf(`exec 3<>/dev/udp/%s/53 || { echo SILENT; exit 0; }
printf '%s' >&3
if timeout 3 head -c 12 <&3 2>/dev/null | od -An -tx1 | grep -q .; then echo REPLY; else echo SILENT; fi`, server, dnsQuery(name))
}

// curlCode fetches url with the session's proxy variables and prints the
// HTTP status (and, with CONNECT, the proxy's answer to it).
func curlCode(args string) string {
	return `curl -s -o /dev/null --max-time 10 ` + args + `; echo`
}

// TestOpenShiftNetworkAttackMatrix attacks the network isolation of a
// session started by `kubectl paude --detach`, from inside its pod, with
// the testbed's real NetworkPolicy enforcer, in a namespace that enforces
// Pod Security "restricted". Every probe also runs in a session started
// with --allow-network in the same namespace: the control that shows the
// same probe gets through where nothing stops it. Then two more sessions
// show proxies shared by allowlist, and stop --all leaves nothing.
func TestOpenShiftNetworkAttackMatrix(t *testing.T) {
	c := kubetest.Require(t)
	img := workspaceImage(t)
	ns := c.Namespace(t, restrictedNamespace)
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 4)
	ctx := context.Background()
	fake := c.FakeInternet

	confined := newUserCLI(t, c, kubeconfig, networkProject(t, c, class))
	start := time.Now()
	out, _ := confined.must("--detach", "-n", ns, "--image", img)
	t.Logf("MEASURE start to Ready with a cold proxy (push, create, wait): %s", time.Since(start).Round(10*time.Millisecond))
	agent := strings.TrimSpace(out)
	open := newUserCLI(t, c, kubeconfig, networkProject(t, c, class))
	out, stderr := open.must("--detach", "-n", ns, "--image", img, "--allow-network")
	control := strings.TrimSpace(out)
	if !strings.Contains(stderr, "--allow-network") {
		t.Errorf("--allow-network gave no warning:\n%s", stderr)
	}

	other := c.Namespace(t, nil)
	target := c.StartPod(t, other, c.ProbePod("target", nil, "/bin/probe", "serve", "8080"))
	kube, err := c.Client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dnsName := "kt-" + randomSuffix() + "." + fake.Allowed
	rawName := "kt-raw-" + randomSuffix() + ".example"
	// Each probe runs in the confined session (want) and, as the control,
	// in the open one (control, running controlScript when the same
	// command cannot show it there: the open session has no proxy).
	type probe struct {
		name, script, want         string
		controlScript, controlWant string
	}
	probes := []probe{
		{"an allowed name through the proxy", curlCode(`-w '%{http_code}' http://` + fake.Allowed + `/`), "200", "", "200"},
		{"an allowed name over CONNECT", curlCode(`-k -w '%{http_connect}' https://` + fake.Allowed + `/`), "200",
			curlCode(`-k -w '%{http_code}' https://` + fake.Allowed + `/`), "200"},
		{"a name not on the allowlist", curlCode(`-w '%{http_code}' http://` + fake.Blocked + `/`), "403", "", "200"},
		{"CONNECT to an IP literal", curlCode(`-k -w '%{http_connect}' https://` + fake.IP + `/`), "403",
			curlCode(`-k -w '%{http_code}' https://` + fake.IP + `/`), "200"},
		{"CONNECT to port 22 of an allowed name", curlCode(`-p -w '%{http_connect}' http://` + fake.Allowed + `:22/`), "403",
			tcpProbe(fake.Allowed, 22), "OPEN"},
		{"an allowed name resolving to a private address", curlCode(`-w '%{http_code}' http://` + fake.Private + `/`), "403", "", "200"},
		{"an allowed name resolving to the metadata address", curlCode(`-w '%{http_code}' http://` + fake.Metadata + `/`), "403", "", "200"},
		{"HTTP that ignores the proxy variables", curlCode(`--noproxy '*' -w '%{http_code}' http://` + fake.IP + `/`), "000", "", "200"},
		{"direct TCP to the fake internet", tcpProbe(fake.IP, 443), "CLOSED", "", "OPEN"},
		{"direct TCP to port 22", tcpProbe(fake.IP, 22), "CLOSED", "", "OPEN"},
		{"TCP 53 to the fake internet's DNS", tcpProbe(fake.IP, 53), "CLOSED", "", "OPEN"},
		{"a DNS query through the cluster DNS", udpDNSProbe(c.DNS, dnsName), "SILENT", "", "REPLY"},
		{"TCP 53 to the cluster DNS", tcpProbe(c.DNS, 53), "CLOSED", "", "OPEN"},
		{"the resolver", `getent hosts ` + fake.Allowed + ` >/dev/null && echo RESOLVED || echo NONE`, "NONE", "", "RESOLVED"},
		{"the API server's ClusterIP", tcpProbe(kube.Spec.ClusterIP, 443), "CLOSED", "", "OPEN"},
		{"a pod in another namespace", tcpProbe(target.Status.PodIP, 8080), "CLOSED", "", "OPEN"},
		{"the node's kubelet", tcpProbe(c.NodeIP, 10250), "CLOSED", "", "OPEN"},
		{"the proxy variables", `echo "$HTTPS_PROXY $http_proxy"`, "http://paude-proxy:3128 http://paude-proxy:3128", "", ""},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			got, err := execIn(t, c, ns, agent, p.script)
			if strings.TrimSpace(got) != p.want {
				t.Errorf("confined session: %q (%v), want %q", got, err, p.want)
			}
			script := p.controlScript
			if script == "" {
				script = p.script
			}
			got, err = execIn(t, c, ns, control, script)
			if strings.TrimSpace(got) != p.controlWant {
				t.Errorf("control (--allow-network): %q (%v), want %q", got, err, p.controlWant)
			}
		})
	}
	// Raw UDP DNS to the fake internet's logger: the logger is the proof.
	t.Run("a DNS query over raw UDP to the fake internet", func(t *testing.T) {
		cursor := fake.DNSLogCursor(t)
		_, _ = execIn(t, c, ns, agent, udpDNSProbe(fake.IP, rawName))
		_, _ = execIn(t, c, ns, control, udpDNSProbe(fake.IP, "control-"+rawName))
		deadline := time.Now().Add(10 * time.Second)
		var lines []string
		for time.Now().Before(deadline) {
			if lines, err = cursor.Lines(); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.Join(lines, "\n"), "control-"+rawName) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		log := strings.Join(lines, "\n")
		if !strings.Contains(log, "control-"+rawName) {
			t.Errorf("the control query never reached the DNS logger:\n%s", log)
		}
		if strings.Contains(log, " "+rawName) {
			t.Errorf("the confined session's query reached the DNS logger:\n%s", log)
		}
	})

	// Sharing: the same allowlist shares the proxy; another gets its own.
	second := newUserCLI(t, c, kubeconfig, networkProject(t, c, class))
	start = time.Now()
	second.must("--detach", "-n", ns, "--image", img)
	t.Logf("MEASURE start to Ready with the proxy running: %s", time.Since(start).Round(10*time.Millisecond))
	if n := proxyDeployments(t, c, ns); n != 1 {
		t.Errorf("%d proxies for two sessions with one allowlist, want 1", n)
	}
	newUserCLI(t, c, kubeconfig, networkProject(t, c, class, "other.example")).must("--detach", "-n", ns, "--image", img)
	if n := proxyDeployments(t, c, ns); n != 2 {
		t.Errorf("%d proxies for two allowlists, want 2", n)
	}
	checkSessionNetworks(t, confined, ns, agent, control)
	confined.must("stop", "--all", "-n", ns)
	if left := paudeObjects(t, c, ns); len(left) != 0 {
		t.Errorf("left after stop --all: %v", left)
	}
}

// proxyDeployments counts the namespace's proxies.
func proxyDeployments(t *testing.T, c *kubetest.Cluster, ns string) int {
	t.Helper()
	l, err := c.Client.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: backend.LabelRole + "=" + backend.RoleProxy})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

// checkSessionNetworks checks that `sessions -o wide` shows each
// session's network mode.
func checkSessionNetworks(t *testing.T, u *userCLI, ns, proxied, open string) {
	t.Helper()
	out, _ := u.must("sessions", "-o", "wide", "-n", ns)
	for id, mode := range map[string]string{proxied: backend.NetworkProxy, open: backend.NetworkOpen} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, id) && strings.Contains(line, mode) {
				found = true
			}
		}
		if !found {
			t.Errorf("sessions -o wide does not show %s as %s:\n%s", id, mode, out)
		}
	}
}

// TestOpenShiftFailsClosedWithoutEnforcement stops the testbed's
// NetworkPolicy enforcer: the policies are accepted but nothing enforces
// them, as on a cluster whose network plugin lacks policy support. A
// start must then refuse to run the agent, say why and what the only way
// round is, and leave nothing behind.
func TestOpenShiftFailsClosedWithoutEnforcement(t *testing.T) {
	c := kubetest.Require(t)
	img := workspaceImage(t)
	ns := c.Namespace(t, restrictedNamespace)
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 1)
	restart := c.StopEnforcer(t)
	defer restart()
	cfg := sessionConfig(class, false)
	cfg.Network.AllowedDomains = []string{"." + c.FakeInternet.Allowed}
	progress := &syncBuffer{}
	flags := kubeFlags(kubeconfig, ns)
	// A short check: the default minute only waits longer for the same
	// answer.
	b, err := openshift.New(openshift.Options{ConfigFlags: flags, Config: cfg, Progress: progress, Home: t.TempDir(),
		CacheDir: t.TempDir(), EgressCheckSeconds: 15})
	if err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(t.TempDir(), "unenforced")
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = b.StartSession(context.Background(), backend.SessionSpec{Image: img, Workspace: ws})
	if err == nil || !strings.Contains(err.Error(), "does not enforce NetworkPolicy") || !strings.Contains(err.Error(), "--allow-network") {
		t.Fatalf("start without enforcement: %v, want the fail-closed message\n%s", err, progress)
	}
	t.Logf("message: %v", err)
	if left := paudeObjects(t, c, ns); len(left) != 0 {
		t.Errorf("left after the refused start: %v", left)
	}
}
