//go:build integration

package kube_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// workloadLabels are the labels of paude's agent pod, which its egress
// policy selects.
var workloadLabels = map[string]string{"app": "paude", "role": "workload"}

// proxyLabels are the labels of the squid proxy pod, the one egress peer.
var proxyLabels = map[string]string{"app": "squid-proxy"}

func createPolicy(t *testing.T, c *kubetest.Cluster, ns string, p *netv1.NetworkPolicy) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Client.NetworkingV1().NetworkPolicies(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatalf("failed to create NetworkPolicy %s/%s: %v", ns, p.Name, err)
	}
}

// denyAllEgress selects the workload and allows it no egress at all.
func denyAllEgress() *netv1.NetworkPolicy {
	return &netv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-all-egress"},
		Spec: netv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: workloadLabels},
			PolicyTypes: []netv1.PolicyType{netv1.PolicyTypeEgress},
		},
	}
}

// allowEgressTo lets the workload reach peer on TCP 3128 only.
func allowEgressTo(peer netv1.NetworkPolicyPeer) *netv1.NetworkPolicy {
	tcp := corev1.ProtocolTCP
	port := intstr.FromInt32(3128)
	return &netv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-proxy"},
		Spec: netv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: workloadLabels},
			PolicyTypes: []netv1.PolicyType{netv1.PolicyTypeEgress},
			Egress: []netv1.NetworkPolicyEgressRule{{
				To:    []netv1.NetworkPolicyPeer{peer},
				Ports: []netv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
			}},
		},
	}
}

// TestEgressPolicy proves the enforcer applies egress rules the way paude's
// agent pod depends on: deny-all blocks every TCP connection (to pods, to
// the API server's Service and to the node), and an allow rule for the
// proxy pods on TCP 3128 opens exactly that and nothing else.
func TestEgressPolicy(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	proxy := c.StartPod(t, ns, c.ProbePod("proxy", proxyLabels, "/bin/probe", "serve", "3128", "8080"))
	other := c.StartPod(t, ns, c.ProbePod("other", map[string]string{"app": "other"}, "/bin/probe", "serve", "3128"))
	workload := c.StartPod(t, ns, c.ProbePod("workload", workloadLabels, "sleep", "3600"))
	// Shares app=paude but not role=workload: no policy selects it.
	bystander := c.StartPod(t, ns, c.ProbePod("bystander", map[string]string{"app": "paude", "role": "proxy-client"}, "sleep", "3600"))

	proxy3128 := hostPort(proxy.Status.PodIP, 3128)
	proxy8080 := hostPort(proxy.Status.PodIP, 8080)
	other3128 := hostPort(other.Status.PodIP, 3128)
	// Beyond pods: the API server through its Service and on the node.
	apiService := hostPort(kubernetesServiceIP(t, c), 443)
	apiNode := hostPort(workload.Status.HostIP, 6443)
	notPods := []string{apiService, apiNode}

	// Without a policy everything is open: whatever is blocked later is
	// blocked by the policy, not by the network. Like the deny cases, the
	// control polls until a deadline: a Service's rules (kube-proxy) and the
	// pod's own rules (the enforcer) are programmed a moment after it starts.
	for _, addr := range []string{proxy3128, proxy8080, other3128} {
		expectReachEventually(t, c, ns, workload.Name, addr, "probe ")
	}
	for _, addr := range notPods {
		expectReachEventually(t, c, ns, workload.Name, addr, "")
	}

	createPolicy(t, c, ns, denyAllEgress())
	waitReach(t, c, ns, workload.Name, other3128, false)
	t.Run("deny all", func(t *testing.T) {
		for _, addr := range append([]string{proxy3128, proxy8080, other3128}, notPods...) {
			expectReach(t, c, ns, workload.Name, addr, false, "")
		}
		// The policy selects by both labels; a pod with only one is untouched.
		expectReachEventually(t, c, ns, bystander.Name, other3128, "probe other port 3128")
	})

	createPolicy(t, c, ns, allowEgressTo(netv1.NetworkPolicyPeer{
		PodSelector: &metav1.LabelSelector{MatchLabels: proxyLabels},
	}))
	waitReach(t, c, ns, workload.Name, proxy3128, true)
	t.Run("allow proxy port", func(t *testing.T) {
		expectReach(t, c, ns, workload.Name, proxy3128, true, "probe proxy port 3128")
		for _, addr := range append([]string{proxy8080, other3128}, notPods...) {
			expectReach(t, c, ns, workload.Name, addr, false, "")
		}
	})
}

// kubernetesServiceIP returns the ClusterIP of the API server's Service.
func kubernetesServiceIP(t *testing.T, c *kubetest.Cluster) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc, err := c.Client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("failed to get the kubernetes Service: %v", err)
	}
	return svc.Spec.ClusterIP
}

// TestEgressPeerNamespaceAndPodSelector proves that a peer giving both a
// namespaceSelector and a podSelector matches only pods that satisfy both
// (the API's AND), not pods in a matching namespace nor matching pods in
// another namespace.
func TestEgressPeerNamespaceAndPodSelector(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	// A label value unique to this test, so no other namespace can match.
	peerLabel := map[string]string{"kubetest-egress-peer": ns}
	proxyNS := c.Namespace(t, peerLabel)
	plainNS := c.Namespace(t, nil)

	proxy := c.StartPod(t, proxyNS, c.ProbePod("proxy", proxyLabels, "/bin/probe", "serve", "3128"))
	neighbour := c.StartPod(t, proxyNS, c.ProbePod("neighbour", map[string]string{"app": "other"}, "/bin/probe", "serve", "3128"))
	lookalike := c.StartPod(t, plainNS, c.ProbePod("lookalike", proxyLabels, "/bin/probe", "serve", "3128"))
	workload := c.StartPod(t, ns, c.ProbePod("workload", workloadLabels, "sleep", "3600"))

	targets := []struct {
		name      string
		addr      string
		reachable bool
		banner    string
	}{
		{"proxy pod in the labelled namespace", hostPort(proxy.Status.PodIP, 3128), true, "probe proxy port 3128"},
		{"other pod in the labelled namespace", hostPort(neighbour.Status.PodIP, 3128), false, ""},
		{"proxy-labelled pod in another namespace", hostPort(lookalike.Status.PodIP, 3128), false, ""},
	}
	for _, tt := range targets {
		expectReachEventually(t, c, ns, workload.Name, tt.addr, "probe ")
	}

	createPolicy(t, c, ns, denyAllEgress())
	waitReach(t, c, ns, workload.Name, targets[0].addr, false)
	createPolicy(t, c, ns, allowEgressTo(netv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: peerLabel},
		PodSelector:       &metav1.LabelSelector{MatchLabels: proxyLabels},
	}))
	waitReach(t, c, ns, workload.Name, targets[0].addr, true)
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			expectReach(t, c, ns, workload.Name, tt.addr, tt.reachable, tt.banner)
		})
	}
}
