//go:build integration

// Package kube_test is the smoke suite for the Kubernetes testbed: what the
// OpenShift backend relies on, proven against a real API server, a real
// node, kube-proxy and a real NetworkPolicy enforcer.
package kube_test

import (
	"testing"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }
