//go:build integration

package kube_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// TestRegistryPull pushes an image that exists nowhere else (the test
// image plus a layer with a random marker) to the testbed registry and
// proves the node pulls and runs exactly that image.
func TestRegistryPull(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), kubetest.PodTimeout)
	defer cancel()

	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		t.Fatalf("failed to make a marker: %v", err)
	}
	marker := hex.EncodeToString(raw)
	layers, err := kubetest.ArchiveLayers(c.ImageArchive)
	if err != nil {
		t.Fatal(err)
	}
	markerLayer, err := kubetest.TarLayer(map[string]string{"marker": marker + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	ref, digest, err := kubetest.PushImage(ctx, c.Registry, "kubetest/marker", marker,
		[]string{"/bin/cat", "/marker"}, append(layers, markerLayer)...)
	if err != nil {
		t.Fatalf("failed to push the image: %v", err)
	}

	pod := c.ProbePod("pulled", nil)
	pod.Spec.Containers[0].Image = ref
	pod.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("failed to create pod: %v", err)
	}
	done, err := c.WaitPod(ctx, ns, pod.Name, kubetest.IsDone)
	if err != nil {
		t.Fatalf("pod running %s did not finish: %v", ref, err)
	}
	if done.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("pod running %s: %s", ref, kubetest.PodSummary(done))
	}
	if id := done.Status.ContainerStatuses[0].ImageID; !strings.HasSuffix(id, "@"+digest) {
		t.Errorf("node ran image %q, want the pushed manifest %s", id, digest)
	}
	logCtx, logCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer logCancel()
	logs, err := c.Client.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{}).DoRaw(logCtx)
	if err != nil {
		t.Fatalf("failed to get logs: %v", err)
	}
	if got := strings.TrimSpace(string(logs)); got != marker {
		t.Errorf("pod printed %q, want the marker %q baked into the pushed image", got, marker)
	}
}
