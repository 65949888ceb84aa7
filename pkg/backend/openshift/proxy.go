package openshift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/progress"
)

// proxyPlan is an allowlist's proxy and policies, as a start applies them.
type proxyPlan struct {
	Hash        string
	Domains     []string
	Secret      *corev1.Secret
	Deployment  *appsv1.Deployment
	Service     *corev1.Service
	AgentPolicy *netv1.NetworkPolicy
	ProxyPolicy *netv1.NetworkPolicy
}

// objects lists the plan's objects in apply order: the policies first,
// so no agent ever runs before they exist.
func (p *proxyPlan) objects() []Object {
	return []Object{p.AgentPolicy, p.ProxyPolicy, p.Secret, p.Service, p.Deployment}
}

// planProxy builds the proxy objects of an allowlist. It reads, where the
// user may, the cluster's pod and service ranges and the addresses of its
// DNS service, which the proxy's policy needs.
func (b *Backend) planProxy(ctx context.Context, c *Clients, ns, hash string, domains []string, conf []byte, img, pullSecret string, clusterDNS bool) (*proxyPlan, error) {
	secret, deploy, svc, err := ProxyObjectsFor(ProxyParams{
		Namespace: ns, Hash: hash, Domains: domains, SquidConf: conf, Image: img, PullSecret: pullSecret,
		Resources: ResourcesFor(b.cfg.Backend.ProxyResources),
	})
	if err != nil {
		return nil, err
	}
	ranges, dnsIPs := b.clusterRanges(ctx, c)
	return &proxyPlan{
		Hash: hash, Domains: domains, Secret: secret, Deployment: deploy, Service: svc,
		AgentPolicy: AgentPolicyFor(ns, hash, clusterDNS),
		ProxyPolicy: ProxyPolicyFor(ns, hash, ranges, dnsIPs),
	}, nil
}

// clusterRanges reads what it may of the cluster's own address ranges
// (the nodes' pod ranges, the service ranges) and the addresses behind
// the cluster DNS service. Each is best effort: a regular user often may
// read none of them, and the private ranges, which the proxy never
// reaches anyway, hold them on most clusters.
func (b *Backend) clusterRanges(ctx context.Context, c *Clients) ([]netip.Prefix, []netip.Addr) {
	var ranges []netip.Prefix
	add := func(cidr string) {
		if p, err := netip.ParsePrefix(cidr); err == nil {
			ranges = append(ranges, p)
		}
	}
	if nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		for _, n := range nodes.Items {
			for _, cidr := range n.Spec.PodCIDRs {
				add(cidr)
			}
		}
	}
	if cidrs, err := c.Kube.NetworkingV1().ServiceCIDRs().List(ctx, metav1.ListOptions{}); err == nil {
		for _, sc := range cidrs.Items {
			for _, cidr := range sc.Spec.CIDRs {
				add(cidr)
			}
		}
	}
	var dns []netip.Addr
	slices, err := c.Kube.DiscoveryV1().EndpointSlices("kube-system").List(ctx, metav1.ListOptions{
		LabelSelector: "kubernetes.io/service-name=kube-dns"})
	if err == nil {
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.TargetRef != nil && e.TargetRef.Kind == "Pod" {
					continue // the pod selector allows it
				}
				for _, a := range e.Addresses {
					if ip, err := netip.ParseAddr(a); err == nil {
						dns = append(dns, ip)
					}
				}
			}
		}
	}
	return ranges, dns
}

// ensureProxy applies an allowlist's policies and proxy (server-side
// apply: new, or updated to this paude's manifests), waits until the
// proxy is ready and returns its Service's address. Objects that did not
// exist before go to created, so that a failed start removes them; a
// proxy other sessions use stays.
func (b *Backend) ensureProxy(ctx context.Context, c *Clients, ns string, p *proxyPlan, timeout time.Duration, created *[]ref, progress io.Writer) (string, error) {
	_, err := c.Kube.AppsV1().Deployments(ns).Get(ctx, p.Deployment.Name, metav1.GetOptions{})
	isNew := apierrors.IsNotFound(err)
	if err != nil && !isNew {
		return "", b.apiError(err, "get", "deployment "+p.Deployment.Name, ns)
	}
	if isNew {
		fmt.Fprintf(progress, "Creating proxy %s for this allowlist\n", p.Deployment.Name)
	} else {
		fmt.Fprintf(progress, "Using proxy %s (shared by the sessions with this allowlist)\n", p.Deployment.Name)
	}
	var clusterIP string
	for _, obj := range p.objects() {
		if isNew {
			*created = append(*created, ref{Kind: kindOf(obj), Name: obj.GetName()})
		}
		applied, err := ServerSideApply(ctx, c.Kube, obj)
		if err != nil {
			return "", b.apiError(err, "create", kindOf(obj)+" "+obj.GetName(), ns)
		}
		if svc, ok := applied.(*corev1.Service); ok {
			clusterIP = svc.Spec.ClusterIP
		}
	}
	if clusterIP == "" || clusterIP == corev1.ClusterIPNone {
		return "", fmt.Errorf("service %s got no cluster IP: the agent would have no way to its proxy", p.Service.Name)
	}
	if err := b.waitProxyReady(ctx, c, ns, p, timeout, progress); err != nil {
		return "", err
	}
	return clusterIP, nil
}

// proxyPoll is how often the wait for the proxy looks at it.
const proxyPoll = 500 * time.Millisecond

// waitProxyReady waits until a proxy pod is ready, and fails fast when one
// cannot start (its image cannot be pulled, squid refuses its config).
func (b *Backend) waitProxyReady(ctx context.Context, c *Clients, ns string, p *proxyPlan, timeout time.Duration, out io.Writer) (err error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	selector := labels.SelectorFromSet(proxyLabels(p.Hash)).String()
	step := progress.For(out).Start("Waiting for proxy "+p.Deployment.Name, progress.Nothing, 0)
	defer func() { step.Done(err) }()
	last := ""
	for {
		pods, err := c.Kube.CoreV1().Pods(ns).List(wctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			if wctx.Err() != nil {
				break
			}
			return b.apiError(err, "list", "pods", ns)
		}
		status := "waiting for its pod"
		for i := range pods.Items {
			ready, s, err := podState(&pods.Items[i])
			if ready {
				return nil
			}
			var failed *PodFailedError
			if errors.As(err, &failed) {
				return fmt.Errorf("proxy %s cannot start: %w", p.Deployment.Name, err)
			}
			status = s
		}
		step.Status(status)
		last = status
		select {
		case <-wctx.Done():
		case <-time.After(proxyPoll):
			continue
		}
		break
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("proxy %s did not become ready within %s (last status: %s): inspect it with `kubectl describe deployment %s -n %s`",
		p.Deployment.Name, timeout, last, p.Deployment.Name, ns)
}

// proxyObjects are the proxy and policy objects of allowlists, by hash.
type proxyObjects map[string][]ref

// listProxies finds every allowlist's proxy and policy objects paude made
// in the namespace.
func (b *Backend) listProxies(ctx context.Context, c *Clients, ns string) (proxyObjects, error) {
	found := proxyObjects{}
	opts := metav1.ListOptions{LabelSelector: backend.LabelApp + "=" + backend.AppName + "," + backend.LabelAllowlist}
	deploys, err := c.Kube.AppsV1().Deployments(ns).List(ctx, opts)
	if err != nil {
		return nil, b.apiError(err, "list", "deployments", ns)
	}
	for _, d := range deploys.Items {
		found.add(d.Labels, ref{Kind: "deployment", Name: d.Name})
	}
	svcs, err := c.Kube.CoreV1().Services(ns).List(ctx, opts)
	if err != nil {
		return nil, b.apiError(err, "list", "services", ns)
	}
	for _, s := range svcs.Items {
		found.add(s.Labels, ref{Kind: "service", Name: s.Name})
	}
	secrets, err := c.Kube.CoreV1().Secrets(ns).List(ctx, opts)
	if err != nil {
		return nil, b.apiError(err, "list", "secrets", ns)
	}
	for _, s := range secrets.Items {
		found.add(s.Labels, ref{Kind: "secret", Name: s.Name})
	}
	policies, err := c.Kube.NetworkingV1().NetworkPolicies(ns).List(ctx, opts)
	if err != nil {
		return nil, b.apiError(err, "list", "networkpolicies", ns)
	}
	for _, p := range policies.Items {
		found.add(p.Labels, ref{Kind: "networkpolicy", Name: p.Name})
	}
	return found, nil
}

func (p proxyObjects) add(labels map[string]string, r ref) {
	hash := labels[backend.LabelAllowlist]
	p[hash] = append(p[hash], r)
}

// removeProxies deletes the proxies and policies of the allowlists no
// pod in use needs (all of them when keep is empty). It says what it
// removed.
func (b *Backend) removeProxies(ctx context.Context, c *Clients, ns string, keep map[string]bool, out io.Writer) error {
	found, err := b.listProxies(ctx, c, ns)
	if err != nil {
		return err
	}
	for hash, refs := range found {
		if keep[hash] {
			continue
		}
		if err := b.deleteRefs(ctx, c, ns, refs); err != nil {
			return fmt.Errorf("failed to remove proxy %s: %w", ProxyName(hash), err)
		}
		if err := b.waitProxyPodsGone(ctx, c, ns, hash); err != nil {
			return err
		}
		fmt.Fprintf(out, "Removed proxy %s and its policies (no session uses it)\n", ProxyName(hash))
	}
	return nil
}

// proxyGoneTimeout bounds the wait for a removed proxy's pod to end
// (squid stops within a second of SIGTERM).
const proxyGoneTimeout = 30 * time.Second

// waitProxyPodsGone waits until an allowlist's proxy has no pod left, so
// that what paude says it removed is gone. A pod still there after
// proxyGoneTimeout is left to finish on its own, with a note.
func (b *Backend) waitProxyPodsGone(ctx context.Context, c *Clients, ns, hash string) error {
	wctx, cancel := context.WithTimeout(ctx, proxyGoneTimeout)
	defer cancel()
	selector := labels.SelectorFromSet(proxyLabels(hash)).String()
	for {
		pods, err := c.Kube.CoreV1().Pods(ns).List(wctx, metav1.ListOptions{LabelSelector: selector})
		switch {
		case err == nil && len(pods.Items) == 0:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case wctx.Err() != nil:
			b.progressf("Proxy %s's pod is still stopping", ProxyName(hash))
			return nil
		case err != nil:
			return b.apiError(err, "list", "pods", ns)
		}
		select {
		case <-wctx.Done():
		case <-time.After(proxyPoll):
		}
	}
}
