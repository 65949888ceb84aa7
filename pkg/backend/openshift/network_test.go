package openshift

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

const proxyClusterIP = "10.96.0.42"

var (
	servicesGVR    = corev1.SchemeGroupVersion.WithResource("services")
	deploymentsGVR = appsv1.SchemeGroupVersion.WithResource("deployments")
)

// proxyCluster makes the fake clientset act like a cluster for proxies:
// an applied Service gets an address, an applied Deployment a ready pod
// with its template's labels, and every agent pod becomes ready (mutate
// decides how its containers end).
func proxyCluster(tb *testBackend, mutate func(*corev1.Pod)) {
	tb.cs.PrependReactor("patch", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		var svc corev1.Service
		if err := json.Unmarshal(a.(k8stesting.PatchAction).GetPatch(), &svc); err != nil {
			return true, nil, err
		}
		svc.Spec.ClusterIP = proxyClusterIP
		if err := tb.cs.Tracker().Add(&svc); err != nil {
			_ = tb.cs.Tracker().Update(servicesGVR, &svc, svc.Namespace)
		}
		return true, &svc, nil
	})
	tb.cs.PrependReactor("patch", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		var d appsv1.Deployment
		if err := json.Unmarshal(a.(k8stesting.PatchAction).GetPatch(), &d); err != nil {
			return true, nil, err
		}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-pod", Namespace: d.Namespace, Labels: d.Spec.Template.Labels}}
		makeReady(pod)
		_ = tb.cs.Tracker().Add(pod)
		if err := tb.cs.Tracker().Add(&d); err != nil {
			_ = tb.cs.Tracker().Update(deploymentsGVR, &d, d.Namespace)
		}
		return true, &d, nil
	})
	// The garbage collector: a deleted Deployment's pod goes with it.
	tb.cs.PrependReactor("delete", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		name := a.(k8stesting.DeleteAction).GetName()
		_ = tb.cs.Tracker().Delete(podsGVR, a.GetNamespace(), name+"-pod")
		return false, nil, nil
	})
	tb.cs.PrependWatchReactor("pods", func(a k8stesting.Action) (bool, watch.Interface, error) {
		ns := a.GetNamespace()
		w, err := tb.cs.Tracker().Watch(podsGVR, ns)
		if err != nil {
			return true, nil, err
		}
		go func() {
			list, err := tb.cs.Tracker().List(podsGVR, corev1.SchemeGroupVersion.WithKind("Pod"), ns)
			if err != nil {
				return
			}
			for _, p := range list.(*corev1.PodList).Items {
				if p.Labels[backend.LabelRole] == backend.RoleAgent && p.Status.Phase == "" {
					pod := p.DeepCopy()
					mutate(pod)
					_ = tb.cs.Tracker().Update(podsGVR, pod, ns)
				}
			}
		}()
		return true, w, nil
	})
}

func proxiedSpec(t *testing.T) backend.SessionSpec {
	spec := startOpts(t)
	spec.AllowNetwork = false
	return spec
}

func names(t *testing.T, tb *testBackend, kind string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	switch kind {
	case "deployments":
		l, _ := tb.cs.AppsV1().Deployments("team").List(ctx, metav1.ListOptions{})
		for _, o := range l.Items {
			out = append(out, o.Name)
		}
	case "networkpolicies":
		l, _ := tb.cs.NetworkingV1().NetworkPolicies("team").List(ctx, metav1.ListOptions{})
		for _, o := range l.Items {
			out = append(out, o.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestStartSessionBehindItsProxy: a start without --allow-network puts the
// agent behind the proxy of its allowlist: the proxy, its Service and
// squid.conf, the two policies, and a pod with no resolver, the proxy by
// name through hostAliases, the proxy variables, and the egress check
// before anything of the agent runs.
func TestStartSessionBehindItsProxy(t *testing.T) {
	reg := newFakeRegistry(t)
	tb, _ := registryBackend(t, reg, teamNS)
	proxyCluster(tb, makeReady)
	s, err := tb.StartSession(context.Background(), proxiedSpec(t))
	if err != nil {
		t.Fatalf("StartSession: %v\nprogress:\n%s", err, tb.progress)
	}
	hash, _ := image.AllowlistHash(defaultAllowlist(t))
	if s.Network != backend.NetworkProxy {
		t.Errorf("session network %q", s.Network)
	}
	if got, want := names(t, tb, "deployments"), []string{ProxyName(hash)}; !reflect.DeepEqual(got, want) {
		t.Errorf("deployments %v, want %v", got, want)
	}
	if got, want := names(t, tb, "networkpolicies"), []string{AgentPolicyName(hash), ProxyPolicyName(hash)}; !reflect.DeepEqual(got, want) {
		t.Errorf("policies %v, want %v", got, want)
	}
	ctx := context.Background()
	pod, err := tb.cs.CoreV1().Pods("team").Get(ctx, PodName(testID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Labels[backend.LabelAllowlist] != hash || pod.Labels[backend.LabelNetworkMode] != backend.NetworkProxy {
		t.Errorf("labels %v", pod.Labels)
	}
	if !reflect.DeepEqual(pod.Spec.HostAliases, []corev1.HostAlias{{IP: proxyClusterIP, Hostnames: []string{"paude-proxy"}}}) {
		t.Errorf("host aliases %v", pod.Spec.HostAliases)
	}
	if pod.Spec.DNSPolicy != corev1.DNSNone || pod.Spec.DNSConfig == nil || !reflect.DeepEqual(pod.Spec.DNSConfig.Nameservers, []string{"127.0.0.1"}) {
		t.Errorf("dns %s %+v", pod.Spec.DNSPolicy, pod.Spec.DNSConfig)
	}
	var inits []string
	for _, c := range pod.Spec.InitContainers {
		inits = append(inits, c.Name)
	}
	if !reflect.DeepEqual(inits, []string{egressCheckContainer, "prepare"}) {
		t.Errorf("init containers %v", inits)
	}
	env := map[string]string{}
	for _, e := range pod.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["HTTPS_PROXY"] != "http://paude-proxy:3128" || env["no_proxy"] != "localhost,127.0.0.1,::1" {
		t.Errorf("proxy env %v", env)
	}
	secret, err := tb.cs.CoreV1().Secrets("team").Get(ctx, ProxyName(hash), metav1.GetOptions{})
	if err != nil || !strings.Contains(string(secret.Data[proxyConfFile]), "acl allowed_domains dstdomain -n api.anthropic.com platform.claude.com") {
		t.Errorf("squid.conf secret: %v\n%s", err, secret.Data[proxyConfFile])
	}
	d, err := tb.cs.AppsV1().Deployments("team").Get(ctx, ProxyName(hash), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps := d.Spec.Template.Spec
	if !strings.HasPrefix(ps.Containers[0].Image, reg.host()+"/team/paude-proxy:") || *ps.AutomountServiceAccountToken ||
		ps.Containers[0].SecurityContext.Capabilities.Drop[0] != "ALL" || !*ps.Containers[0].SecurityContext.ReadOnlyRootFilesystem ||
		ps.Containers[0].ReadinessProbe == nil {
		t.Errorf("proxy pod spec %+v", ps)
	}
	if !containsAll(tb.progress.String(), "Creating proxy "+ProxyName(hash), "no EgressFirewall API") {
		t.Errorf("progress:\n%s", tb.progress)
	}
}

// TestProxiesAreSharedByAllowlist: a second session with the same
// allowlist uses the first one's proxy; one with another allowlist gets
// its own; cleanup keeps proxies in use, stop --all removes them all.
func TestProxiesAreSharedByAllowlist(t *testing.T) {
	reg := newFakeRegistry(t)
	tb, _ := registryBackend(t, reg, teamNS)
	tb.opts.Random = bytes.NewReader([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) // three session IDs
	proxyCluster(tb, makeReady)
	ctx := context.Background()
	if _, err := tb.StartSession(ctx, proxiedSpec(t)); err != nil {
		t.Fatal(err)
	}
	before := len(tb.progress.String())
	if _, err := tb.StartSession(ctx, proxiedSpec(t)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tb.progress.String()[before:], "Using proxy paude-proxy-") {
		t.Errorf("the second start did not reuse the proxy:\n%s", tb.progress)
	}
	other := testConfig()
	other.Network.AllowedDomains, other.Network.AllowedDomainsSet = []string{"api.example.com"}, true
	spec := proxiedSpec(t)
	spec.Config = other
	if _, err := tb.StartSession(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if got := names(t, tb, "deployments"); len(got) != 2 {
		t.Fatalf("deployments %v, want one per allowlist", got)
	}
	var out bytes.Buffer
	if err := tb.Cleanup(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if got := names(t, tb, "deployments"); len(got) != 2 {
		t.Errorf("cleanup removed a proxy in use: %v\n%s", got, out.String())
	}
	if err := tb.StopAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := append(names(t, tb, "deployments"), names(t, tb, "networkpolicies")...); len(got) != 0 {
		t.Errorf("stop --all left %v", got)
	}
}

// TestStartFailsClosedWithoutEnforcement: when the egress check never sees
// its policy enforced, the start fails with a message that names the
// cause and --allow-network, and removes what it created, the proxy it
// made included.
func TestStartFailsClosedWithoutEnforcement(t *testing.T) {
	reg := newFakeRegistry(t)
	tb, _ := registryBackend(t, reg, teamNS)
	proxyCluster(tb, func(p *corev1.Pod) {
		p.Spec.NodeName = "node"
		p.Status.Phase = corev1.PodPending
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: egressCheckContainer, State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: egressCheckExit, Reason: "Error",
				Message: "paude: after 60s the pod still reached the API server (10.96.0.1:443)"}}}}
	})
	_, err := tb.StartSession(context.Background(), proxiedSpec(t))
	if err == nil || !containsAll(err.Error(), "does not enforce NetworkPolicy", "still reached the API server", "`oc paude --allow-network`") {
		t.Fatalf("err = %v", err)
	}
	if left := sessionObjectsLeft(t, tb.cs, "team", testID); len(left) != 0 {
		t.Errorf("left %v", left)
	}
	if got := append(names(t, tb, "deployments"), names(t, tb, "networkpolicies")...); len(got) != 0 {
		t.Errorf("the failed start left its proxy and policies: %v", got)
	}
}

// An egress check that could not run (an --image without bash: exit
// 127) is no verdict on the network: the start fails saying so, not
// blaming the network plugin.
func TestStartEgressCheckThatCannotRun(t *testing.T) {
	reg := newFakeRegistry(t)
	tb, _ := registryBackend(t, reg, teamNS)
	proxyCluster(tb, func(p *corev1.Pod) {
		p.Spec.NodeName = "node"
		p.Status.Phase = corev1.PodPending
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: egressCheckContainer, State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: 127, Reason: "Error", Message: "exec: /bin/bash: not found"}}}}
	})
	_, err := tb.StartSession(context.Background(), proxiedSpec(t))
	if err == nil || strings.Contains(err.Error(), "does not enforce NetworkPolicy") || !containsAll(err.Error(), "egress check could not run (exit code 127)", "/bin/bash: not found") {
		t.Fatalf("err = %v", err)
	}
	if left := sessionObjectsLeft(t, tb.cs, "team", testID); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}

func TestProxyPolicyKeepsTheProxyOutOfPrivateRanges(t *testing.T) {
	p := ProxyPolicyFor("team", "abcd1234", []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("203.0.113.0/24")},
		[]netip.Addr{netip.MustParseAddr("192.0.2.53")})
	out := p.Spec.Egress[0]
	if len(out.Ports) != 2 || out.Ports[0].Port.IntVal != 80 || out.Ports[1].Port.IntVal != 443 {
		t.Errorf("ports %v", out.Ports)
	}
	v4 := out.To[0].IPBlock
	for _, want := range []string{"10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "203.0.113.0/24"} {
		if !slices.Contains(v4.Except, want) {
			t.Errorf("IPv4 except lacks %s: %v", want, v4.Except)
		}
	}
	if slices.Contains(v4.Except, "10.244.0.0/16") {
		t.Errorf("a range inside 10/8 is listed again: %v", v4.Except)
	}
	if v6 := out.To[1].IPBlock; v6.CIDR != "::/0" || !slices.Contains(v6.Except, "fc00::/7") || !slices.Contains(v6.Except, "fe80::/10") {
		t.Errorf("IPv6 %v", v6)
	}
	dns := p.Spec.Egress[1]
	if len(dns.To) != 3 || dns.To[2].IPBlock.CIDR != "192.0.2.53/32" || len(dns.Ports) != 4 {
		t.Errorf("dns rule %+v", dns)
	}
	if from := p.Spec.Ingress[0].From[0].PodSelector.MatchLabels; from[backend.LabelAllowlist] != "abcd1234" || from[backend.LabelRole] != backend.RoleAgent {
		t.Errorf("ingress from %v", from)
	}
	agent := AgentPolicyFor("team", "abcd1234", false)
	if len(agent.Spec.Ingress) != 0 || len(agent.Spec.Egress) != 1 || agent.Spec.Egress[0].Ports[0].Port.IntVal != 3128 {
		t.Errorf("agent policy %+v", agent.Spec)
	}
	if withDNS := AgentPolicyFor("team", "abcd1234", true); len(withDNS.Spec.Egress) != 2 {
		t.Errorf("clusterDNS adds no DNS rule: %+v", withDNS.Spec.Egress)
	}
}

func TestEgressFirewallFor(t *testing.T) {
	fw := EgressFirewallFor("team", []string{".Example.com", "api.other.org", ".example.com"}, []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")})
	rules, _ := fw.Object["spec"].(map[string]any)["egress"].([]any)
	var got []string
	for _, r := range rules {
		m := r.(map[string]any)
		to := m["to"].(map[string]any)
		for k, v := range to {
			got = append(got, m["type"].(string)+" "+k+"="+v.(string))
		}
	}
	want := []string{"Allow dnsName=example.com", "Allow dnsName=*.example.com", "Allow dnsName=api.other.org",
		"Allow cidrSelector=10.96.0.0/16", "Deny cidrSelector=0.0.0.0/0", "Deny cidrSelector=::/0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules\n got %q\nwant %q", got, want)
	}
	if fw.GetName() != "default" || fw.GetLabels()[backend.LabelApp] != "paude" {
		t.Errorf("metadata %v %v", fw.GetName(), fw.GetLabels())
	}
}

// defaultAllowlist is the allowlist of a session of testConfig on the
// tests' host, whose environment selects no provider: Anthropic's API.
func defaultAllowlist(t *testing.T) []string {
	t.Helper()
	domains, err := backend.AllowedDomains(testConfig().Network, backend.Provider{Kind: backend.ProviderAnthropic})
	if err != nil {
		t.Fatal(err)
	}
	return domains
}
