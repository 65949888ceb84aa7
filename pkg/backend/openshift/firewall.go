package openshift

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/paude-dev/paude/pkg/backend"
)

// OVN-Kubernetes' EgressFirewall: a second layer under the NetworkPolicies
// on clusters that have it (OpenShift's default network plugin). It is
// namespace-wide and OVN honours only the one named "default", so paude
// keeps that one: it allows the names of every paude proxy's allowlist in
// the namespace and the cluster's own ranges, and denies everything else.
var egressFirewallResource = schema.GroupVersionResource{Group: "k8s.ovn.org", Version: "v1", Resource: "egressfirewalls"}

// EgressFirewallName is the only name OVN-Kubernetes honours.
const EgressFirewallName = "default"

// EgressFirewallFor is the namespace's EgressFirewall for the union of the
// allowlists of its proxies: an Allow rule per name (a ".example.com"
// entry allows example.com and *.example.com), an Allow rule per cluster
// range, then a Deny of everything else, IPv4 and IPv6. It is a pure
// function.
func EgressFirewallFor(ns string, domains []string, clusterRanges []netip.Prefix) *unstructured.Unstructured {
	var rules []any
	allow := func(to map[string]any) { rules = append(rules, map[string]any{"type": "Allow", "to": to}) }
	seen := map[string]bool{}
	names := slices.Clone(domains)
	slices.Sort(names)
	for _, d := range names {
		d = strings.ToLower(d)
		for _, name := range []string{strings.TrimPrefix(d, "."), "*" + d} {
			if !strings.HasPrefix(d, ".") && strings.HasPrefix(name, "*") {
				continue
			}
			if !seen[name] {
				seen[name] = true
				allow(map[string]any{"dnsName": name})
			}
		}
	}
	for _, r := range clusterRanges {
		allow(map[string]any{"cidrSelector": r.Masked().String()})
	}
	for _, all := range []string{"0.0.0.0/0", "::/0"} {
		rules = append(rules, map[string]any{"type": "Deny", "to": map[string]any{"cidrSelector": all}})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "k8s.ovn.org/v1", "kind": "EgressFirewall",
		"metadata": map[string]any{"name": EgressFirewallName, "namespace": ns,
			"labels": map[string]any{backend.LabelApp: backend.AppName, backend.LabelRole: backend.RoleNetwork}},
		"spec": map[string]any{"egress": rules},
	}}
}

// hasEgressFirewall reports whether the cluster serves the EgressFirewall
// API (OVN-Kubernetes).
func (b *Backend) hasEgressFirewall(c *Clients) bool {
	list, err := c.Kube.Discovery().ServerResourcesForGroupVersion("k8s.ovn.org/v1")
	if err != nil {
		return false
	}
	return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == "egressfirewalls" })
}

// ensureFirewall keeps the namespace's EgressFirewall in step with its
// proxies, as a second layer. It never blocks a start: without the API it
// says once that the layer is not there; a "default" EgressFirewall that
// is not paude's is left alone with a warning; a failure is a warning.
func (b *Backend) ensureFirewall(ctx context.Context, c *Clients, ns string, domains []string, progress io.Writer) {
	if c.Dynamic == nil || !b.hasEgressFirewall(c) {
		b.firewallNote.Do(func() {
			fmt.Fprintln(progress, "Note: this cluster has no EgressFirewall API (OVN-Kubernetes): the firewall layer is not available; the proxy and the NetworkPolicies still confine the agent")
		})
		return
	}
	fw := c.Dynamic.Resource(egressFirewallResource).Namespace(ns)
	cur, err := fw.Get(ctx, EgressFirewallName, metav1.GetOptions{})
	switch {
	case err == nil && cur.GetLabels()[backend.LabelApp] != backend.AppName:
		fmt.Fprintf(progress, "Warning: namespace %s has an EgressFirewall %q that paude did not make: left as it is, so it may not allow the proxy's names\n", ns, EgressFirewallName)
		return
	case apierrors.IsForbidden(err):
		fmt.Fprintf(progress, "Note: you may not manage the EgressFirewall of namespace %s (OpenShift gives that right to admin, not edit): the firewall layer is not updated; the proxy and the NetworkPolicies still confine the agent\n", ns)
		return
	case err != nil && !apierrors.IsNotFound(err):
		fmt.Fprintf(progress, "Warning: failed to read the EgressFirewall of namespace %s (%v): the firewall layer is not updated\n", ns, firstLine(err.Error()))
		return
	}
	all := slices.Clone(domains)
	if found, err := b.listProxyDomains(ctx, c, ns); err == nil {
		all = append(all, found...)
	}
	ranges, _ := b.clusterRanges(ctx, c)
	obj := EgressFirewallFor(ns, all, ranges)
	if _, err := fw.Apply(ctx, EgressFirewallName, obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		fmt.Fprintf(progress, "Warning: failed to apply the EgressFirewall of namespace %s (%v): the firewall layer is not updated\n", ns, firstLine(err.Error()))
	}
}

// listProxyDomains is every allowed domain of the namespace's proxies.
func (b *Backend) listProxyDomains(ctx context.Context, c *Clients, ns string) ([]string, error) {
	secrets, err := c.Kube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{
		LabelSelector: backend.LabelApp + "=" + backend.AppName + "," + backend.LabelRole + "=" + backend.RoleProxy})
	if err != nil {
		return nil, err
	}
	var all []string
	for _, s := range secrets.Items {
		var domains []string
		if json.Unmarshal([]byte(s.Annotations[AnnotationDomains]), &domains) == nil {
			all = append(all, domains...)
		}
	}
	return all, nil
}

// removeFirewall deletes the namespace's EgressFirewall when paude made
// it (stop --all).
func (b *Backend) removeFirewall(ctx context.Context, c *Clients, ns string) error {
	if c.Dynamic == nil || !b.hasEgressFirewall(c) {
		return nil
	}
	fw := c.Dynamic.Resource(egressFirewallResource).Namespace(ns)
	cur, err := fw.Get(ctx, EgressFirewallName, metav1.GetOptions{})
	// A user who may not read the firewall (OpenShift's edit role) could
	// not have made it either: paude's starts only warn when they cannot.
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || err == nil && cur.GetLabels()[backend.LabelApp] != backend.AppName {
		return nil
	}
	if err != nil {
		return b.apiError(err, "get", "egressfirewall "+EgressFirewallName, ns)
	}
	if err := fw.Delete(ctx, EgressFirewallName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return b.apiError(err, "delete", "egressfirewall "+EgressFirewallName, ns)
	}
	b.progressf("Deleted egressfirewall/%s", EgressFirewallName)
	return nil
}
