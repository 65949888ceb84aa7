//go:build integration

package kube_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// TestStopEnforcer proves the harness can take NetworkPolicy enforcement
// away and give it back: a connection a deny-all policy blocks goes
// through while the enforcer is stopped (its rules are gone, as on a
// cluster whose network plugin ignores policies) and is blocked again once
// it runs.
func TestStopEnforcer(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	server := c.StartPod(t, ns, c.ProbePod("server", map[string]string{"app": "server"}, "/bin/probe", "serve", "8080"))
	workload := c.StartPod(t, ns, c.ProbePod("workload", workloadLabels, "sleep", "3600"))
	addr := hostPort(server.Status.PodIP, 8080)
	waitReach(t, c, ns, workload.Name, addr, true)
	createPolicy(t, c, ns, denyAllEgress())
	waitReach(t, c, ns, workload.Name, addr, false)

	restart := c.StopEnforcer(t)
	waitReach(t, c, ns, workload.Name, addr, true)
	expectReach(t, c, ns, workload.Name, addr, true, "probe server port 8080")

	restart()
	waitReach(t, c, ns, workload.Name, addr, false)
}

// TestDropAPIServer proves the harness can cut clients off the API server
// for a while: requests through the test kubeconfig fail while the
// cluster's own path (127.0.0.1) keeps working, and they succeed again
// after an early restore and after the given duration runs out.
func TestDropAPIServer(t *testing.T) {
	c := kubetest.Require(t)
	internalCfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(c.PKI, "admin.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	internal, err := kubernetes.NewForConfig(internalCfg)
	if err != nil {
		t.Fatal(err)
	}
	reachable := func(client kubernetes.Interface) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
		return err
	}
	if err := reachable(c.Client); err != nil {
		t.Fatalf("the API server is not reachable before the drop: %v", err)
	}

	t.Run("restored early", func(t *testing.T) {
		restore := c.DropAPIServer(t, 10*time.Minute)
		if err := reachable(c.Client); err == nil {
			t.Fatal("a request through the test kubeconfig succeeded while the API server was cut off")
		}
		if err := reachable(internal); err != nil {
			t.Errorf("the cluster's own path to the API server broke too: %v", err)
		}
		// The enforcer rewrites the whole filter table on every sync, from a
		// snapshot: a rule there could vanish or come back in a race with
		// it. The cut must outlive a sync (it lives in the raw table).
		enforcerSync(t, internal)
		if err := reachable(c.Client); err == nil {
			t.Fatal("a request through the test kubeconfig succeeded after an enforcer sync: the cut did not hold")
		}
		restore()
		if err := waitReachable(reachable, c.Client); err != nil {
			t.Fatalf("the API server is still unreachable after restore: %v", err)
		}
		enforcerSync(t, internal)
		if err := reachable(c.Client); err != nil {
			t.Fatalf("the API server is unreachable again after an enforcer sync: %v", err)
		}
	})
	t.Run("restored after the duration", func(t *testing.T) {
		c.DropAPIServer(t, 3*time.Second)
		if err := reachable(c.Client); err == nil {
			t.Fatal("a request succeeded while the API server was cut off")
		}
		if err := waitReachable(reachable, c.Client); err != nil {
			t.Fatalf("the API server is still unreachable after the duration: %v", err)
		}
	})
}

// enforcerSync makes the NetworkPolicy enforcer rewrite its rules, through
// client (which must reach the API server), and waits until it has: a new
// NetworkPolicy gets a chain of its own in the namespace's filter table.
func enforcerSync(t *testing.T, client kubernetes.Interface) {
	t.Helper()
	policyChains := func() int {
		out, err := exec.Command("iptables", "-w", "-S").Output()
		if err != nil {
			t.Fatalf("iptables -S: %v", err)
		}
		return strings.Count(string(out), "-N KUBE-NWPLCY-")
	}
	before := policyChains()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := kubetest.NamespaceName(t.Name())
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns, Labels: map[string]string{kubetest.LabelManaged: "true"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("failed to create namespace %s: %v", ns, err)
	}
	t.Cleanup(func() { _ = client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	policy := denyAllEgress()
	if _, err := client.NetworkingV1().NetworkPolicies(ns).Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatalf("failed to create a NetworkPolicy in %s: %v", ns, err)
	}
	deadline := time.Now().Add(convergeTimeout)
	for policyChains() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the enforcer made no chain for a new NetworkPolicy within %s", convergeTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitReachable polls until reachable(client) succeeds or a deadline for
// a broken testbed passes.
func waitReachable(reachable func(kubernetes.Interface) error, client kubernetes.Interface) error {
	deadline := time.Now().Add(convergeTimeout)
	for {
		err := reachable(client)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
