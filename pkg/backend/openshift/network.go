package openshift

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
)

// Network isolation on a cluster. Each allowlist gets a proxy of its own
// (a Deployment, a Service and the Secret with its squid.conf, all named
// paude-proxy-<allowlist hash>), shared by the sessions with that list.
// Two NetworkPolicies make it the agents' only way out: agents may reach
// nothing but the proxy of their allowlist on 3128, and nothing may
// reach them; the proxy may be reached only by those agents, and reach
// only ports 80 and 443 outside the cluster's and the private ranges,
// and the cluster's DNS.

// AnnotationDomains lists a proxy's allowed domains (JSON), so that the
// namespace's EgressFirewall can allow every proxy's names.
const AnnotationDomains = "paude.io/allowed-domains"

// proxyConfFile is the Secret key of the rendered squid.conf.
const proxyConfFile = "squid.conf"

// ProxyName is the name of the proxy objects of an allowlist.
func ProxyName(hash string) string { return "paude-proxy-" + hash }

// AgentPolicyName names an allowlist's policy for its agents.
func AgentPolicyName(hash string) string { return "paude-agent-" + hash }

// ProxyPolicyName names an allowlist's policy for its proxy.
func ProxyPolicyName(hash string) string { return "paude-proxy-" + hash }

// proxyLabels select an allowlist's proxy pods.
func proxyLabels(hash string) map[string]string {
	return map[string]string{backend.LabelApp: backend.AppName, backend.LabelRole: backend.RoleProxy, backend.LabelAllowlist: hash}
}

// agentSelector selects the agent pods of an allowlist.
func agentSelector(hash string) map[string]string {
	return map[string]string{backend.LabelApp: backend.AppName, backend.LabelRole: backend.RoleAgent, backend.LabelAllowlist: hash}
}

// ProxyParams is what an allowlist's proxy objects are made of.
type ProxyParams struct {
	Namespace string
	Hash      string
	// Domains are the allowlist, SquidConf its rendered squid.conf.
	Domains   []string
	SquidConf []byte
	// Image is the proxy image as the node pulls it, PullSecret the
	// pull secret it needs ("" = none).
	Image      string
	PullSecret string
	Resources  corev1.ResourceRequirements
}

// ProxyObjectsFor returns an allowlist's proxy: the Secret holding its
// squid.conf, the Deployment running squid, and the Service the agents
// reach it by. They are pure functions of the parameters.
func ProxyObjectsFor(p ProxyParams) (*corev1.Secret, *appsv1.Deployment, *corev1.Service, error) {
	name, labels := ProxyName(p.Hash), proxyLabels(p.Hash)
	domains, err := json.Marshal(p.Domains)
	if err != nil {
		return nil, nil, nil, err
	}
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: p.Namespace, Labels: labels,
			Annotations: map[string]string{AnnotationDomains: string(domains)}}
	}
	secret := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta(),
		Type: corev1.SecretTypeOpaque, Data: map[string][]byte{proxyConfFile: p.SquidConf},
	}
	port := corev1.ContainerPort{Name: "proxy", ContainerPort: image.ProxyPort, Protocol: corev1.ProtocolTCP}
	deploy := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					EnableServiceLinks:           ptr.To(false),
					ImagePullSecrets:             pullSecrets(p.PullSecret),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name: "squid", Image: p.Image,
						Ports:     []corev1.ContainerPort{port},
						Resources: p.Resources,
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(image.ProxyPort)}},
							PeriodSeconds: 2, TimeoutSeconds: 2,
						},
						// squid writes only under /tmp (its PID file and
						// logs), so nothing else need be writable.
						SecurityContext: readOnlyRoot(hardened()),
						VolumeMounts: []corev1.VolumeMount{
							{Name: "conf", MountPath: "/etc/paude-proxy", ReadOnly: true},
							{Name: "run", MountPath: "/tmp"},
						},
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					}},
					Volumes: []corev1.Volume{
						{Name: "conf", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
							SecretName: name, DefaultMode: ptr.To[int32](0o440),
							Items: []corev1.KeyToPath{{Key: proxyConfFile, Path: proxyConfFile}},
						}}},
						{Name: "run", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
	svc := &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports: []corev1.ServicePort{{Name: "proxy", Port: image.ProxyPort, TargetPort: intstr.FromInt32(image.ProxyPort),
				Protocol: corev1.ProtocolTCP}},
		},
	}
	return secret, deploy, svc, nil
}

// AgentPolicyFor keeps an allowlist's agent pods to its proxy: no
// ingress at all, egress only TCP 3128 to the proxy pods of the same
// allowlist. With clusterDNS they may also query the cluster's DNS
// (network.clusterDNS: a DNS tunnel out, so off by default).
func AgentPolicyFor(ns, hash string, clusterDNS bool) *netv1.NetworkPolicy {
	egress := []netv1.NetworkPolicyEgressRule{{
		To:    []netv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: proxyLabels(hash)}}},
		Ports: tcpPorts(image.ProxyPort),
	}}
	if clusterDNS {
		egress = append(egress, dnsRule(nil))
	}
	return &netv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: policyMeta(ns, AgentPolicyName(hash), hash),
		Spec: netv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: agentSelector(hash)},
			PolicyTypes: []netv1.PolicyType{netv1.PolicyTypeIngress, netv1.PolicyTypeEgress},
			Egress:      egress,
		},
	}
}

// ProxyPolicyFor keeps an allowlist's proxy to its job: reached only by
// the agents of the allowlist, on 3128; reaching only TCP 80 and 443
// outside the ranges no request may go to (loopback, link-local and so
// the cloud metadata address, private, CGNAT, ULA, and the cluster's own
// ranges where they are known), and the cluster's DNS, which squid needs.
// dnsIPs are extra addresses of the cluster's DNS server for clusters
// that run it outside pods.
func ProxyPolicyFor(ns, hash string, clusterRanges []netip.Prefix, dnsIPs []netip.Addr) *netv1.NetworkPolicy {
	return &netv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: policyMeta(ns, ProxyPolicyName(hash), hash),
		Spec: netv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: proxyLabels(hash)},
			PolicyTypes: []netv1.PolicyType{netv1.PolicyTypeIngress, netv1.PolicyTypeEgress},
			Ingress: []netv1.NetworkPolicyIngressRule{{
				From:  []netv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: agentSelector(hash)}}},
				Ports: tcpPorts(image.ProxyPort),
			}},
			Egress: []netv1.NetworkPolicyEgressRule{
				{To: outsidePeers(clusterRanges), Ports: tcpPorts(80, 443)},
				dnsRule(dnsIPs),
			},
		},
	}
}

// forbiddenRanges are where the proxy never connects, whatever a name
// resolves to (squid refuses them too: two layers).
var forbiddenRanges = []string{
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
	"192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
	"::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
}

// outsidePeers are 0.0.0.0/0 and ::/0 less the forbidden ranges and the
// cluster's own (those inside a forbidden range are already out).
func outsidePeers(cluster []netip.Prefix) []netv1.NetworkPolicyPeer {
	except := map[bool][]string{}
	var forbidden []netip.Prefix
	for _, r := range forbiddenRanges {
		p := netip.MustParsePrefix(r)
		forbidden = append(forbidden, p)
		except[p.Addr().Is4()] = append(except[p.Addr().Is4()], r)
	}
	for _, c := range cluster {
		c = c.Masked()
		covered := false
		for _, f := range forbidden {
			if f.Addr().Is4() == c.Addr().Is4() && f.Bits() <= c.Bits() && f.Contains(c.Addr()) {
				covered = true
			}
		}
		if !covered && c.Bits() > 0 {
			except[c.Addr().Is4()] = append(except[c.Addr().Is4()], c.String())
		}
	}
	return []netv1.NetworkPolicyPeer{
		{IPBlock: &netv1.IPBlock{CIDR: "0.0.0.0/0", Except: except[true]}},
		{IPBlock: &netv1.IPBlock{CIDR: "::/0", Except: except[false]}},
	}
}

// dnsRule allows DNS (53, and 5353 where OpenShift's DNS pods listen) to
// the cluster DNS pods of Kubernetes and of OpenShift, and to extra
// addresses.
func dnsRule(ips []netip.Addr) netv1.NetworkPolicyEgressRule {
	peers := []netv1.NetworkPolicyPeer{
		{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
		},
		{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "openshift-dns"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"dns.operator.openshift.io/daemonset-dns": "default"}},
		},
	}
	for _, ip := range ips {
		bits := 32
		if ip.Is6() {
			bits = 128
		}
		peers = append(peers, netv1.NetworkPolicyPeer{IPBlock: &netv1.IPBlock{CIDR: netip.PrefixFrom(ip, bits).String()}})
	}
	var ports []netv1.NetworkPolicyPort
	for _, port := range []int32{53, 5353} {
		for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
			ports = append(ports, netv1.NetworkPolicyPort{Protocol: ptr.To(proto), Port: ptr.To(intstr.FromInt32(port))})
		}
	}
	return netv1.NetworkPolicyEgressRule{To: peers, Ports: ports}
}

func tcpPorts(ports ...int32) []netv1.NetworkPolicyPort {
	out := make([]netv1.NetworkPolicyPort, len(ports))
	for i, p := range ports {
		out[i] = netv1.NetworkPolicyPort{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(p))}
	}
	return out
}

func policyMeta(ns, name, hash string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{
		backend.LabelApp: backend.AppName, backend.LabelRole: backend.RoleNetwork, backend.LabelAllowlist: hash}}
}

// proxyHost is the agent's /etc/hosts entry for its proxy, the Service's
// address: the agent has no DNS to look the name up with.
func proxyHost(clusterIP string) []corev1.HostAlias {
	return []corev1.HostAlias{{IP: clusterIP, Hostnames: []string{backend.ProxyHost}}}
}

// errNotEnforced is a cluster whose network plugin ignores NetworkPolicy.
func (b *Backend) errNotEnforced(detail string) error {
	return fmt.Errorf("the cluster's network plugin does not enforce NetworkPolicy (%s): paude's isolation cannot work here, so the agent was not started; %s is the only way to run on this cluster, and the agent then has the egress every pod has",
		detail, b.hint("--allow-network"))
}

// allowlist is a session's egress allowlist, checked and rendered.
type allowlist struct {
	Domains []string
	Hash    string
	Conf    []byte
}

// allowlistOf renders the configuration's allowlist into the proxy's
// squid.conf (nil with open network). It calls nothing, so a bad entry
// stops a start before anything happens. Without network.allowedDomains
// the list is the hosts of the model provider the host's environment
// selects, as on Podman (backend.AllowedDomains).
func (b *Backend) allowlistOf(cfg *config.Config, openNetwork bool) (*allowlist, error) {
	if openNetwork {
		return nil, nil
	}
	domains, err := backend.AllowedDomains(cfg.Network, backend.ProviderFor(cfg, b.opts.Getenv))
	if err != nil {
		return nil, err
	}
	conf, err := image.SquidConf(image.SquidOptions{AllowedDomains: domains, Port: image.ProxyPort})
	if err != nil {
		return nil, fmt.Errorf("failed to render squid.conf from network.allowedDomains: %w", err)
	}
	hash, err := image.AllowlistHash(domains)
	if err != nil {
		return nil, err
	}
	return &allowlist{Domains: domains, Hash: hash, Conf: conf}, nil
}

// planNetwork is a proxied session's network: its allowlist's proxy (in
// the pushed proxy image) and the agent's place behind it.
func (b *Backend) planNetwork(ctx context.Context, c *Clients, ns string, cfg *config.Config, a *allowlist, images startImages) (*proxyPlan, *AgentNetwork, error) {
	pullSecret := ""
	if images.PullSecret != nil {
		pullSecret = images.PullSecret.Name
	}
	p, err := b.planProxy(ctx, c, ns, a.Hash, a.Domains, a.Conf, images.ProxyImage, pullSecret, cfg.Network.ClusterDNS)
	if err != nil {
		return nil, nil, err
	}
	return p, &AgentNetwork{Hash: a.Hash, ClusterDNS: cfg.Network.ClusterDNS, CheckSeconds: b.opts.EgressCheckSeconds}, nil
}
