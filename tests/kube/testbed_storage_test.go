//go:build integration

package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// restrictedPod is a probe pod that passes Pod Security's restricted
// level, with the claim mounted at /data.
func restrictedPod(c *kubetest.Cluster, name, claim string, command ...string) *corev1.Pod {
	p := c.ProbePod(name, nil, command...)
	p.Spec.Containers[0].Image = c.NonRootImage
	yes, no := true, false
	p.Spec.SecurityContext = &corev1.PodSecurityContext{
		RunAsNonRoot:   &yes,
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
		AllowPrivilegeEscalation: &no,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
	}}}
	return p
}

// TestDefaultStorageClass proves a PVC that names no storage class gets
// the default one and a volume the provisioner makes (no PV from the
// test), in a namespace that enforces Pod Security's restricted level:
// a restricted pod writes a file, and a second pod reads it back.
func TestDefaultStorageClass(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	ctx, cancel := context.WithTimeout(context.Background(), kubetest.PodTimeout)
	defer cancel()
	pvc, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "workspace"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("failed to create the PVC: %v", err)
	}
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != c.StorageClass {
		t.Fatalf("the PVC got storage class %v, want the default %q", pvc.Spec.StorageClassName, c.StorageClass)
	}

	run := func(name string, command ...string) string {
		t.Helper()
		if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, restrictedPod(c, name, "workspace", command...), metav1.CreateOptions{}); err != nil {
			t.Fatalf("failed to create pod %s (Pod Security restricted): %v", name, err)
		}
		done, err := c.WaitPod(ctx, ns, name, kubetest.IsDone)
		if err != nil || done.Status.Phase != corev1.PodSucceeded {
			t.Fatalf("pod %s did not succeed: %v %s", name, err, kubetest.PodSummary(done))
		}
		logCtx, logCancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer logCancel()
		logs, err := c.Client.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(logCtx)
		if err != nil {
			t.Fatalf("failed to get the logs of %s: %v", name, err)
		}
		return strings.TrimSpace(string(logs))
	}
	if got := run("writer", "sh", "-c", "echo persisted > /data/file && id -u"); got != "65534" {
		t.Errorf("writer ran as %q, want the image's user 65534", got)
	}
	if got := run("reader", "cat", "/data/file"); got != "persisted" {
		t.Errorf("reader saw %q, want the writer's file", got)
	}

	pvc, err = c.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "workspace", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Status.Phase != corev1.ClaimBound {
		t.Fatalf("PVC phase %s, want Bound", pvc.Status.Phase)
	}
	pv, err := c.Client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("failed to get the bound volume %s: %v", pvc.Spec.VolumeName, err)
	}
	if by := pv.Annotations["pv.kubernetes.io/provisioned-by"]; by != "rancher.io/local-path" {
		t.Errorf("volume %s provisioned by %q, want rancher.io/local-path", pv.Name, by)
	}
}
