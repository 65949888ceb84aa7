//go:build integration

// Package kube_test is the smoke suite for the Kubernetes testbed: what the
// OpenShift backend relies on, proven against a real API server, a real
// node, kube-proxy and a real NetworkPolicy enforcer.
package kube_test

import (
	"os"
	"testing"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// podmanConf is the containers.conf hack/podman/install.sh writes; paude
// runs podman to build and push cluster images, and in the tests it uses
// the same podman setup as every other suite.
const podmanConf = "/var/cache/paude-podman/containers.conf"

// scratch holds what tests share and build once (the plugin binary);
// it is removed when they end.
var scratch string

func TestMain(m *testing.M) {
	if _, err := os.Stat(podmanConf); err == nil && os.Getenv("CONTAINERS_CONF") == "" {
		_ = os.Setenv("CONTAINERS_CONF", podmanConf)
	}
	var err error
	if scratch, err = os.MkdirTemp("", "paude-kt-"); err != nil {
		panic(err)
	}
	code := kubetest.Run(m)
	_ = os.RemoveAll(scratch)
	os.Exit(code)
}
