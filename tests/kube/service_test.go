//go:build integration

package kube_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// TestServiceClusterIP proves kube-proxy routes a Service's ClusterIP to
// the pod behind it: the answer carries the serving pod's name.
func TestServiceClusterIP(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	c.StartPod(t, ns, c.ProbePod("web", map[string]string{"app": "web"}, "/bin/probe", "serve", "8080"))
	client := c.StartPod(t, ns, c.ProbePod("client", nil, "sleep", "3600"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc, err := c.Client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("failed to create service: %v", err)
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		t.Fatalf("service got no ClusterIP: %q", svc.Spec.ClusterIP)
	}
	addr := hostPort(svc.Spec.ClusterIP, 80)
	waitReach(t, c, ns, client.Name, addr, true)
	expectReach(t, c, ns, client.Name, addr, true, "probe web port 8080")
}
