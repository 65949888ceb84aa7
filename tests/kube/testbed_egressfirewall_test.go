//go:build integration

package kube_test

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

var egressFirewalls = schema.GroupVersionResource{Group: "k8s.ovn.org", Version: "v1", Resource: "egressfirewalls"}

// egressFirewall builds an EgressFirewall with the given name and rules.
func egressFirewall(name string, rules ...any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "k8s.ovn.org/v1",
		"kind":       "EgressFirewall",
		"metadata":   map[string]any{"name": name},
		"spec":       map[string]any{"egress": rules},
	}}
}

// TestEgressFirewallValidation proves the API server judges EgressFirewall
// objects by OVN-Kubernetes's published schema (nothing in the testbed
// enforces them): the kind of object paude writes is accepted, malformed
// ones are rejected as Invalid.
func TestEgressFirewallValidation(t *testing.T) {
	c := kubetest.Require(t)
	allowDNS := map[string]any{"type": "Allow", "to": map[string]any{"dnsName": "api.anthropic.com"},
		"ports": []any{map[string]any{"protocol": "TCP", "port": int64(443)}}}
	allowWildcard := map[string]any{"type": "Allow", "to": map[string]any{"dnsName": "*.googleapis.com"}}
	denyAll := map[string]any{"type": "Deny", "to": map[string]any{"cidrSelector": "0.0.0.0/0"}}
	tests := []struct {
		name  string
		obj   *unstructured.Unstructured
		valid bool
	}{
		{"allow names then deny all", egressFirewall("default", allowDNS, allowWildcard, denyAll), true},
		{"node selector", egressFirewall("default", map[string]any{"type": "Deny",
			"to": map[string]any{"nodeSelector": map[string]any{"matchLabels": map[string]any{"a": "b"}}}}), true},
		{"name other than default", egressFirewall("paude", denyAll), false},
		{"unknown rule type", egressFirewall("default", map[string]any{"type": "Permit", "to": map[string]any{"cidrSelector": "0.0.0.0/0"}}), false},
		{"two destinations", egressFirewall("default", map[string]any{"type": "Deny",
			"to": map[string]any{"cidrSelector": "0.0.0.0/0", "dnsName": "a.example"}}), false},
		{"no destination", egressFirewall("default", map[string]any{"type": "Deny", "to": map[string]any{}}), false},
		{"port 0", egressFirewall("default", map[string]any{"type": "Allow", "to": map[string]any{"dnsName": "a.example"},
			"ports": []any{map[string]any{"protocol": "TCP", "port": int64(0)}}}), false},
		{"port above 65535", egressFirewall("default", map[string]any{"type": "Allow", "to": map[string]any{"dnsName": "a.example"},
			"ports": []any{map[string]any{"protocol": "TCP", "port": int64(70000)}}}), false},
		{"protocol ICMP", egressFirewall("default", map[string]any{"type": "Allow", "to": map[string]any{"dnsName": "a.example"},
			"ports": []any{map[string]any{"protocol": "ICMP", "port": int64(1)}}}), false},
		{"wildcard inside a name", egressFirewall("default", map[string]any{"type": "Allow", "to": map[string]any{"dnsName": "api.*.example"}}), false},
		{"rule without type", egressFirewall("default", map[string]any{"to": map[string]any{"dnsName": "a.example"}}), false},
		{"no rules", &unstructured.Unstructured{Object: map[string]any{"apiVersion": "k8s.ovn.org/v1", "kind": "EgressFirewall",
			"metadata": map[string]any{"name": "default"}, "spec": map[string]any{}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A namespace each: only one EgressFirewall ("default") fits in one.
			ns := c.Namespace(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := c.Dynamic.Resource(egressFirewalls).Namespace(ns).Create(ctx, tt.obj, metav1.CreateOptions{})
			switch {
			case tt.valid && err != nil:
				t.Fatalf("rejected: %v", err)
			case !tt.valid && err == nil:
				t.Fatal("accepted, want the API server to reject it")
			case !tt.valid && !apierrors.IsInvalid(err):
				t.Fatalf("want an Invalid error, got %v", err)
			}
		})
	}
}
