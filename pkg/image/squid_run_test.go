package image

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The proxy tests run squid for real, through the proxy image's own
// entrypoint, under an arbitrary UID. The policy test runs in a network
// namespace of its own (unshare -n), where lo carries every address the
// test needs: upstream servers on 198.51.100.1 (TEST-NET-2, not
// "private"), a decoy in each range squid must refuse (privateDecoys), and
// a logging DNS server on 127.0.0.1:53.

const (
	netnsChildEnv = "PAUDE_TEST_NETNS_CHILD"
	proxyUID      = "1000680000"
	upstreamIP    = "198.51.100.1"
)

// privateDecoys are names that resolve into the ranges squid's
// private_dst refuses, one address per range, each with a decoy server on
// port 80 (unless listen is false: squid connects to no IPv4-mapped
// address of its own). A range missing from private_dst lets its name
// reach the decoy, and TestProxyPolicyInNamespace fails; the "control"
// subtest shows that each decoy is reachable once private_dst is off.
var privateDecoys = []struct {
	name, addr string
	listen     bool
}{
	{"loop", "127.0.0.1", true},
	{"this-network", "0.1.2.3", false},
	{"private10", "10.0.0.1", true},
	{"private172", "172.16.0.9", true},
	{"private192", "192.168.0.9", true},
	{"meta", "169.254.169.254", true},
	{"cgnat", "100.64.0.1", true},
	{"ietf", "192.0.0.8", true},
	{"bench", "198.18.0.9", true},
	{"v6loop", "::1", true},
	{"mapped", "::ffff:127.0.0.1", false},
	{"nat64", "64:ff9b::a00:1", true},
	{"nat64local", "64:ff9b:1::9", true},
	{"sixtofour", "2002:a00:1::9", true},
	{"ula", "fd00::9", true},
	{"sitelocal", "fec0::9", true},
}

// proxyPrereqs skips (or fails under PAUDE_REQUIRE_ALL=1) unless the
// test can run squid under another UID in a namespace of its own.
func proxyPrereqs(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "running squid under an arbitrary UID in a network namespace needs root")
	}
	for _, tool := range []string{"squid", "unshare", "setpriv", "ip"} {
		requireTool(t, tool)
	}
}

// TestProxyEnforcesPolicy re-runs this test binary inside a new network
// namespace, where TestProxyPolicyInNamespace does the work.
func TestProxyEnforcesPolicy(t *testing.T) {
	proxyPrereqs(t)
	cmd := exec.Command("unshare", "--net", "--", os.Args[0], "-test.run=^TestProxyPolicyInNamespace$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), netnsChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestProxyPolicyInNamespace")) {
		t.Fatalf("policy test in a network namespace failed: %v\n%s", err, out)
	}
}

func TestProxyPolicyInNamespace(t *testing.T) {
	if os.Getenv(netnsChildEnv) != "1" {
		t.Skip("runs only inside the namespace TestProxyEnforcesPolicy creates")
	}
	ipCmds := [][]string{{"link", "set", "lo", "up"}, {"addr", "add", upstreamIP + "/32", "dev", "lo"}}
	hosts := upstreamIP + " allowed.test sub.allowed.test blocked.test exact.test deep.exact.test\n"
	for _, d := range privateDecoys {
		hosts += d.addr + " " + d.name + ".allowed.test\n"
		if d.listen && d.addr != "127.0.0.1" && d.addr != "::1" {
			cmd := []string{"addr", "add", d.addr, "dev", "lo"}
			if strings.Contains(d.addr, ":") {
				// Usable at once: no duplicate address detection first.
				cmd = append(cmd, "nodad")
			}
			ipCmds = append(ipCmds, cmd)
		}
	}
	for _, args := range ipCmds {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	up := startUpstreams(t)
	dns := startDNSLogger(t)
	opts := SquidOptions{AllowedDomains: []string{".allowed.test", "exact.test"}, HostsFile: true}
	proxy := startProxy(t, opts, hosts, nil)

	t.Run("allowed", func(t *testing.T) {
		for _, url := range []string{"http://allowed.test/", "http://sub.allowed.test/x", "http://exact.test/"} {
			status, header, body := proxyGet(t, proxy, url)
			if status != "200" || body != "upstream ok" {
				t.Errorf("GET %s: %s %q, want 200 from the upstream", url, status, body)
			}
			if header != "" {
				t.Errorf("GET %s: the upstream saw proxy headers %q", url, header)
			}
		}
		if got := proxyConnect(t, proxy, "allowed.test:443"); got != "200 tunnel ok" {
			t.Errorf("CONNECT allowed.test:443: %s", got)
		}
	})
	denied := []struct{ name, url string }{
		{"not listed", "http://blocked.test/"},
		{"subdomain of an exact host", "http://deep.exact.test/"},
		{"IPv4 literal", "http://" + upstreamIP + "/"},
		{"integer IPv4", "http://3325256705/"},
		{"hex IPv4", "http://0xc6.0x33.0x64.0x1/"},
		{"IPv6 literal", "http://[::1]/"},
		{"port 8080", "http://allowed.test:8080/"},
		{"cache manager", "http://127.0.0.1:3128/squid-internal-mgr/info"},
	}
	for _, d := range privateDecoys {
		denied = append(denied, struct{ name, url string }{d.name + " (" + d.addr + ") by name", "http://" + d.name + ".allowed.test/"})
	}
	for _, tt := range denied {
		t.Run("GET "+tt.name, func(t *testing.T) {
			if status, _, body := proxyGet(t, proxy, tt.url); status != "403" {
				t.Errorf("GET %s: %s %q, want 403", tt.url, status, body)
			}
		})
	}
	for _, target := range []string{"allowed.test:8443", "blocked.test:443", upstreamIP + ":443", "loop.allowed.test:443", "[::1]:443"} {
		t.Run("CONNECT "+target, func(t *testing.T) {
			if got := proxyConnect(t, proxy, target); !strings.HasPrefix(got, "403") {
				t.Errorf("CONNECT %s: %s, want 403", target, got)
			}
		})
	}
	t.Run("decoys never reached", func(t *testing.T) {
		if n := up.hits("decoy"); n != 0 {
			t.Errorf("the loopback and private decoys got %d requests", n)
		}
		if n := up.hits("8443"); n != 0 {
			t.Errorf("the non-443 TLS port got %d connections", n)
		}
	})
	t.Run("no DNS for names outside the allowlist", func(t *testing.T) {
		proxyGet(t, proxy, "http://exfil-secret.blocked.test/")
		proxyConnect(t, proxy, "exfil-tunnel.blocked.test:443")
		// Positive control: an allowed name missing from the hosts file is
		// looked up, so the logger does see squid's queries.
		proxyGet(t, proxy, "http://unlisted.allowed.test/")
		waitUntil(t, "squid's DNS query for unlisted.allowed.test", func() bool { return dns.saw("unlisted.allowed.test") })
		if dns.saw("exfil") {
			t.Errorf("squid resolved a name outside the allowlist: %v", dns.names())
		}
	})
	t.Run("ip_literal ACL on its own", func(t *testing.T) {
		// The allowlist already refuses IP literals (dstdomain -n); this
		// squid lets every name through to check the second layer alone.
		opts := opts
		opts.Port = 3129
		open := startProxy(t, opts, hosts, func(conf string) string {
			conf = strings.Replace(conf, "http_access deny !allowed_domains\n", "", 1)
			return strings.Replace(conf, "http_access allow allowed_domains\n", "http_access allow all\n", 1)
		})
		if status, _, body := proxyGet(t, open, "http://blocked.test/"); status != "200" {
			t.Fatalf("the open variant refused a name: %s %q", status, body)
		}
		for _, url := range []string{"http://" + upstreamIP + "/", "http://3325256705/", "http://0xc6.0x33.0x64.0x1/", "http://0306.063.0144.01/", "http://198.51.25601/"} {
			if status, _, _ := proxyGet(t, open, url); status != "403" {
				t.Errorf("GET %s: %s, want 403 from the ip_literal ACL", url, status)
			}
		}
		if got := proxyConnect(t, open, upstreamIP+":443"); !strings.HasPrefix(got, "403") {
			t.Errorf("CONNECT %s:443: %s, want 403 from the ip_literal ACL", upstreamIP, got)
		}
	})
	t.Run("control: without private_dst every decoy is reached", func(t *testing.T) {
		// The same names through a squid whose only change is that it
		// does not refuse private_dst: each 403 above came from that
		// rule, and each decoy would have been reached.
		opts := opts
		opts.Port = 3130
		open := startProxy(t, opts, hosts, func(conf string) string {
			return strings.Replace(conf, "http_access deny private_dst\n", "", 1)
		})
		for _, d := range privateDecoys {
			if !d.listen {
				continue
			}
			if status, _, body := proxyGet(t, open, "http://"+d.name+".allowed.test/"); status != "200" || body != "decoy reached" {
				t.Errorf("%s (%s) without private_dst: %s %q, want the decoy", d.name, d.addr, status, body)
			}
		}
	})
	t.Run("access log on stdout", func(t *testing.T) {
		waitUntil(t, "the access log on the entrypoint's stdout", func() bool {
			return strings.Contains(proxy.output(), "TCP_DENIED/403") && strings.Contains(proxy.output(), "blocked.test")
		})
	})
}

func TestProxyEntrypointRefusesBadConfig(t *testing.T) {
	requireTool(t, "squid")
	tests := []struct {
		name, conf, want string
	}{
		{"missing", "", "no readable squid configuration"},
		{"invalid", "http_port 3128\nacl x dstdomain example.com .example.com\n", "squid rejected"},
		{"unknown directive", "http_port 3128\nallow_everything on\n", "squid rejected"},
	}
	recipe, err := ProxyRecipe(nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := recipe.WriteContext(dir); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "squid.conf")
			if tt.conf != "" {
				if err := os.WriteFile(conf, []byte(tt.conf), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(filepath.Join(dir, "entrypoint.sh"))
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PAUDE_PROXY_CONF=" + conf, "PAUDE_PROXY_RUN_DIR=" + filepath.Join(t.TempDir(), "run")}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), tt.want) {
				t.Errorf("got %v, output:\n%s\nwant exit 1 and %q", err, out, tt.want)
			}
		})
	}
}

// proxyProcess is the proxy entrypoint running squid.
type proxyProcess struct {
	addr string
	pid  int // squid's, once the entrypoint has exec'd it
	mu   sync.Mutex
	out  bytes.Buffer
}

func (p *proxyProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proxyProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startProxy renders squid.conf (changed by edit when set), writes the
// proxy image's build context, and runs its entrypoint as an arbitrary UID in group 0 until the test
// ends.
func startProxy(t testing.TB, opts SquidOptions, hosts string, edit func(string) string) *proxyProcess {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o770); err != nil {
			t.Fatal(err)
		}
	}
	hostsPath := filepath.Join(root, "hosts")
	runDir := filepath.Join(root, "run")
	conf, err := renderSquid(opts, runDir, hostsPath)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		conf = []byte(edit(string(conf)))
	}
	confPath := filepath.Join(root, "squid.conf")
	for name, content := range map[string]string{hostsPath: hosts, confPath: string(conf)} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recipe, err := ProxyRecipe(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := filepath.Join(root, "ctx")
	if err := recipe.WriteContext(ctx); err != nil {
		t.Fatal(err)
	}
	port := opts.Port
	if port == 0 {
		port = ProxyPort
	}
	p := &proxyProcess{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	cmd := exec.Command("setpriv", "--reuid="+proxyUID, "--regid=0", "--clear-groups", "--", filepath.Join(ctx, "entrypoint.sh"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PAUDE_PROXY_CONF=" + confPath, "PAUDE_PROXY_RUN_DIR=" + runDir}
	cmd.Stdout, cmd.Stderr = p, p
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.pid = cmd.Process.Pid
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	waitUntil(t, "squid to listen", func() bool {
		select {
		case <-done:
			t.Fatalf("the proxy entrypoint exited: %v\n%s", waitErr, p.output())
		default:
		}
		c, err := net.Dial("tcp", p.addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return p
}

// waitUntil polls cond; the bound only stops a broken proxy from hanging
// the test, it is not a performance threshold.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// proxyGet sends a GET for url through the proxy and returns the status
// code, the proxy headers the upstream reported seeing, and the body.
func proxyGet(t *testing.T, p *proxyProcess, url string) (status, header, body string) {
	t.Helper()
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	host := strings.SplitN(strings.SplitN(url, "://", 2)[1], "/", 2)[0]
	if _, err := io.WriteString(c, "GET "+url+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(c)
	head, rest, _ := strings.Cut(string(raw), "\r\n\r\n")
	fields := strings.Fields(head)
	if len(fields) < 2 {
		t.Fatalf("GET %s: no HTTP response: %q", url, raw)
	}
	for _, line := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && strings.EqualFold(k, "X-Seen-Proxy-Headers") {
			header = v
		}
	}
	return fields[1], header, rest
}

// proxyConnect opens a CONNECT tunnel and returns the status code, plus
// " tunnel ok" when a round trip through the tunnel worked.
func proxyConnect(t testing.TB, p *proxyProcess, target string) string {
	t.Helper()
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	var head []byte
	buf := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("CONNECT %s: %v after %q", target, err, head)
		}
		head = append(head, buf[0])
	}
	status := strings.Fields(string(head))[1]
	if status != "200" {
		return status
	}
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return status + " write failed"
	}
	reply := make([]byte, 5)
	if _, err := io.ReadFull(c, reply); err != nil || string(reply) != "ping\n" {
		return status + " no echo"
	}
	return status + " tunnel ok"
}
