//go:build integration

package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

var (
	routes       = schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"}
	imageStreams = schema.GroupVersionResource{Group: "image.openshift.io", Version: "v1", Resource: "imagestreams"}
	buildConfigs = schema.GroupVersionResource{Group: "build.openshift.io", Version: "v1", Resource: "buildconfigs"}
)

func route(name, host string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "route.openshift.io/v1",
		"kind":       "Route",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"host": host,
			"to":   map[string]any{"kind": "Service", "name": "web"},
		},
	}}
}

// TestRouteHostValidation proves the installed Route CRD (the real one from
// github.com/openshift/api) makes the API server judge spec.host.
func TestRouteHostValidation(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	tests := []struct {
		name  string
		host  string
		valid bool
	}{
		{"dns name", "paude.apps.example.com", true},
		{"single label", "paude", true},
		{"underscore", "bad_host.example.com", false},
		{"leading dash", "-paude.example.com", false},
		{"empty label", "paude..example.com", false},
		{"space", "paude example.com", false},
		{"too long", strings.Repeat("a.", 127) + "com", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			name := "route-" + string(rune('a'+i))
			_, err := c.Dynamic.Resource(routes).Namespace(ns).Create(ctx, route(name, tt.host), metav1.CreateOptions{})
			switch {
			case tt.valid && err != nil:
				t.Fatalf("host %q rejected: %v", tt.host, err)
			case !tt.valid && err == nil:
				t.Fatalf("host %q accepted, want the API server to reject it", tt.host)
			case !tt.valid && !apierrors.IsInvalid(err):
				t.Fatalf("host %q: want an Invalid error, got %v", tt.host, err)
			case !tt.valid && !strings.Contains(err.Error(), "spec.host"):
				t.Fatalf("host %q: error does not name spec.host: %v", tt.host, err)
			}
		})
	}
}

// TestOpenShiftStandInCRDs proves ImageStream and BuildConfig objects can be
// created and listed, as the OpenShift backend's build path does.
func TestOpenShiftStandInCRDs(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	for _, tt := range []struct {
		gvr  schema.GroupVersionResource
		kind string
	}{
		{imageStreams, "ImageStream"},
		{buildConfigs, "BuildConfig"},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": tt.gvr.GroupVersion().String(),
				"kind":       tt.kind,
				"metadata":   map[string]any{"name": "paude"},
				"spec":       map[string]any{},
			}}
			if _, err := c.Dynamic.Resource(tt.gvr).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
				t.Fatalf("failed to create %s: %v", tt.kind, err)
			}
			list, err := c.Dynamic.Resource(tt.gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("failed to list %s: %v", tt.kind, err)
			}
			if len(list.Items) != 1 || list.Items[0].GetName() != "paude" {
				t.Fatalf("listed %d %s objects, want exactly the one created", len(list.Items), tt.kind)
			}
		})
	}
}
