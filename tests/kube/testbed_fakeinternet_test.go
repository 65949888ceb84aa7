//go:build integration

package kube_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// fakeGet fetches url from this process (with the testbed CA trusted)
// and returns the status and body.
func fakeGet(t *testing.T, c *kubetest.Cluster, url string) (int, string) {
	t.Helper()
	client := registryClient(t, c)
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestFakeInternet proves the fake host answers for every fake name over
// HTTP and HTTPS (a certificate the testbed CA signed, checked), at the
// address each name resolves to, sends its banner on port 22, logs DNS
// queries sent to it (UDP and TCP) without answering them, and hands a
// host to a test's own handler through Serve.
func TestFakeInternet(t *testing.T) {
	c := kubetest.Require(t)
	f := c.FakeInternet
	sites := []struct{ host, addr string }{
		{f.Allowed, f.IP}, {"sub." + f.Allowed, f.IP}, {f.Blocked, f.IP},
		{f.Private, f.PrivateIP}, {f.Metadata, f.MetadataIP},
	}
	for _, n := range f.APINames {
		sites = append(sites, struct{ host, addr string }{n, f.IP})
	}
	for _, s := range sites {
		for _, scheme := range []string{"http", "https"} {
			t.Run(scheme+"://"+s.host, func(t *testing.T) {
				status, body := fakeGet(t, c, scheme+"://"+s.host+"/probe")
				want := fmt.Sprintf("fakehost: host=%s addr=%s path=/probe", s.host, s.addr)
				if status != http.StatusOK || strings.TrimSpace(body) != want {
					t.Errorf("HTTP %d %q, want 200 %q", status, body, want)
				}
			})
		}
	}

	t.Run("port 22 banner", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(f.IP, "22"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := io.ReadAll(conn)
		if strings.TrimSpace(string(line)) != "fakehost port 22" {
			t.Errorf("banner %q, want %q", line, "fakehost port 22")
		}
	})

	t.Run("DNS queries are logged and not answered", func(t *testing.T) {
		log := f.DNSLogCursor(t)
		raw := make([]byte, 4)
		_, _ = rand.Read(raw)
		names := map[string]string{"udp": "leak-" + hex.EncodeToString(raw) + ".exfil.test", "tcp": "leak-tcp-" + hex.EncodeToString(raw) + ".exfil.test"}
		for network, name := range names {
			r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, net.JoinHostPort(f.IP, "53"))
			}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			addrs, err := r.LookupHost(ctx, name)
			cancel()
			if err == nil {
				t.Errorf("%s query for %s answered %v; the fake host must answer nothing", network, name, addrs)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for network, name := range names {
			for {
				lines, err := log.Lines()
				if err != nil {
					t.Fatal(err)
				}
				if logged(lines, network, name) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the DNS log has no %s query for %s:\n%s", network, name, strings.Join(lines, "\n"))
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	})

	t.Run("a test's handler serves a host", func(t *testing.T) {
		host := f.APINames[len(f.APINames)-1]
		f.Serve(t, host, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "fake api: host=%s proto=%s path=%s", r.Host, r.Header.Get("X-Forwarded-Proto"), r.URL.Path)
		}))
		status, body := fakeGet(t, c, "https://"+host+"/v1/messages")
		if want := "fake api: host=" + host + " proto=https path=/v1/messages"; status != http.StatusOK || body != want {
			t.Errorf("HTTP %d %q, want 200 %q", status, body, want)
		}
		// Other hosts keep the default answer.
		if _, body := fakeGet(t, c, "https://"+f.Allowed+"/"); !strings.HasPrefix(body, "fakehost: host="+f.Allowed) {
			t.Errorf("%s answered %q while another host had a handler", f.Allowed, body)
		}
	})
}

// logged reports whether a DNS log line records a query for name over network.
func logged(lines []string, network, name string) bool {
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 5 && f[1] == network && f[3] == name {
			return true
		}
	}
	return false
}

// TestFakeInternetFromPods proves the cluster reaches the fake internet
// only as NetworkPolicy allows: with no policy a pod reaches it (by name,
// through the cluster DNS), a deny-all egress policy stops it, and an
// ipBlock rule for the fake host's port 80 opens that port and nothing else.
func TestFakeInternetFromPods(t *testing.T) {
	c := kubetest.Require(t)
	f := c.FakeInternet
	ns := c.Namespace(t, nil)
	workload := c.StartPod(t, ns, c.ProbePod("workload", workloadLabels, "sleep", "3600"))
	web, ssh := hostPort(f.IP, 80), hostPort(f.IP, 22)

	// Control: no policy, the fake host is reachable, by name as well.
	waitReach(t, c, ns, workload.Name, ssh, true)
	expectReach(t, c, ns, workload.Name, ssh, true, "fakehost port 22")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, errOut, err := c.ExecOutput(ctx, ns, workload.Name, "/bin/probe", "get", "http://"+f.Allowed+"/pod")
	if want := "fakehost: host=" + f.Allowed + " addr=" + f.IP + " path=/pod"; err != nil || strings.TrimSpace(out) != want {
		t.Fatalf("GET http://%s/pod from a pod: %v %q %q, want %q", f.Allowed, err, out, errOut, want)
	}

	createPolicy(t, c, ns, denyAllEgress())
	waitReach(t, c, ns, workload.Name, web, false)
	expectReach(t, c, ns, workload.Name, ssh, false, "")

	tcp := corev1.ProtocolTCP
	port := intstr.FromInt32(80)
	createPolicy(t, c, ns, &netv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-fake-web"},
		Spec: netv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: workloadLabels},
			PolicyTypes: []netv1.PolicyType{netv1.PolicyTypeEgress},
			Egress: []netv1.NetworkPolicyEgressRule{{
				To:    []netv1.NetworkPolicyPeer{{IPBlock: &netv1.IPBlock{CIDR: f.IP + "/32"}}},
				Ports: []netv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
			}},
		},
	})
	waitReach(t, c, ns, workload.Name, web, true)
	expectReach(t, c, ns, workload.Name, ssh, false, "")
}
