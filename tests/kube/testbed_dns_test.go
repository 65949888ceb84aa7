//go:build integration

package kube_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// outsideName is a real internet name: the testbed must not resolve it.
const outsideName = "example.com"

// resolveInPod looks name up from pod ns/pod with the probe helper; it
// returns the addresses, or ok=false when the name does not resolve.
func resolveInPod(t *testing.T, c *kubetest.Cluster, ns, pod, name string) (addrs []string, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, errOut, err := c.ExecOutput(ctx, ns, pod, "/bin/probe", "resolve", "-timeout", "5s", name)
	if err == nil {
		return strings.Fields(out), true
	}
	if code, isExit := kubetest.ExitCode(err); isExit && code == 1 {
		return nil, false
	}
	t.Fatalf("failed to run probe resolve %s in pod %s/%s: %v (stderr %q)", name, ns, pod, err, errOut)
	return nil, false
}

// dnsCases are the names the testbed's DNS serves, and one it must not.
func dnsCases(c *kubetest.Cluster) []struct {
	name string
	want string // "" means: must not resolve
} {
	f := c.FakeInternet
	cases := []struct {
		name string
		want string
	}{
		{"kubernetes.default.svc.cluster.local", kubernetesServiceIPOf(c)},
		{"kube-dns.kube-system.svc.cluster.local", c.DNS},
		{f.Allowed, f.IP},
		{"sub." + f.Allowed, f.IP},
		{f.Blocked, f.IP},
		{f.Private, f.PrivateIP},
		{f.Metadata, f.MetadataIP},
		{c.RegistryRoute, c.NodeIP},
		{outsideName, ""},
	}
	for _, n := range f.APINames {
		cases = append(cases, struct {
			name string
			want string
		}{n, f.IP})
	}
	return cases
}

// kubernetesServiceIPOf is the API server's ClusterIP (the first of the
// Service range).
func kubernetesServiceIPOf(c *kubetest.Cluster) string {
	svc, err := c.Client.CoreV1().Services("default").Get(context.Background(), "kubernetes", metav1.GetOptions{})
	if err != nil {
		return "unknown: " + err.Error()
	}
	return svc.Spec.ClusterIP
}

// TestClusterDNS proves CoreDNS serves pods with the default dnsPolicy:
// cluster names, the registry's route, the fake internet's names (the
// private and metadata ones to their addresses), and nothing else: a real
// internet name does not resolve, because CoreDNS forwards nothing.
func TestClusterDNS(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	pod := c.StartPod(t, ns, c.ProbePod("client", nil, "sleep", "3600"))
	for _, tt := range dnsCases(c) {
		t.Run(tt.name, func(t *testing.T) {
			addrs, ok := resolveInPod(t, c, ns, pod.Name, tt.name)
			switch {
			case tt.want == "" && ok:
				t.Errorf("%s resolved to %v in a pod: the testbed's DNS must answer no outside name", tt.name, addrs)
			case tt.want != "" && !slices.Contains(addrs, tt.want):
				t.Errorf("%s resolved to %v (ok=%v) in a pod, want %s", tt.name, addrs, ok, tt.want)
			}
		})
	}
}

// TestTestProcessDNS proves a test process, and the programs it starts,
// resolve through the testbed's DNS (hack/testbed/enter.sh bind-mounts its
// resolv.conf in the test's own mount namespace) and nothing else.
func TestTestProcessDNS(t *testing.T) {
	c := kubetest.Require(t)
	conf, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	var servers []string
	for _, line := range strings.Split(string(conf), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "nameserver" {
			servers = append(servers, f[1])
		}
	}
	if !slices.Equal(servers, []string{c.DNS}) {
		t.Fatalf("/etc/resolv.conf names %v, want only the cluster DNS %s: run the tests with hack/testbed/test-kube.sh", servers, c.DNS)
	}
	for _, tt := range dnsCases(c) {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			addrs, err := net.DefaultResolver.LookupHost(ctx, tt.name)
			switch {
			case tt.want == "" && err == nil:
				t.Errorf("%s resolved to %v: the testbed's DNS must answer no outside name", tt.name, addrs)
			case tt.want != "" && !slices.Contains(addrs, tt.want):
				t.Errorf("%s resolved to %v (%v), want %s", tt.name, addrs, err, tt.want)
			}
		})
	}
	t.Run("a child process (libc resolver)", func(t *testing.T) {
		out, err := exec.Command("getent", "hosts", c.RegistryRoute).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), c.NodeIP+" ") {
			t.Errorf("getent hosts %s: %v: %q, want the node IP", c.RegistryRoute, err, out)
		}
	})
}
