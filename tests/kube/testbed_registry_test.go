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

// markerImage returns the test image plus a layer holding /marker with a
// random value, so a pulled image is provably the one pushed, and the value.
func markerImage(t *testing.T, c *kubetest.Cluster) (kubetest.Image, string) {
	t.Helper()
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
	return kubetest.Image{Cmd: []string{"/bin/cat", "/marker"}, Layers: append(layers, markerLayer)}, marker
}

// pullFailure returns the waiting state of a pod's first container when
// its image could not be pulled, and nil otherwise.
func pullFailure(p *corev1.Pod) *corev1.ContainerStateWaiting {
	if p == nil || len(p.Status.ContainerStatuses) == 0 {
		return nil
	}
	w := p.Status.ContainerStatuses[0].State.Waiting
	if w == nil || (w.Reason != "ErrImagePull" && w.Reason != "ImagePullBackOff") {
		return nil
	}
	return w
}

// TestRegistryPull pushes an image that exists nowhere else through the
// registry's route as the test user, and proves the node pulls it by the
// in-cluster name (image-registry.openshift-image-registry.svc:5000/<ns>/…)
// only with an imagePullSecret: without one the pull is refused; with a
// dockerconfigjson Secret whose password is a ServiceAccount token it runs
// exactly the pushed image.
func TestRegistryPull(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	c.GrantUser(t, ns, "edit")
	ctx, cancel := context.WithTimeout(context.Background(), kubetest.PodTimeout)
	defer cancel()
	img, marker := markerImage(t, c)
	ref, digest, err := c.PushImage(ctx, c.UserAuth(), ns, "marker", marker, img)
	if err != nil {
		t.Fatalf("failed to push the image: %v", err)
	}
	if !strings.HasPrefix(ref, "image-registry.openshift-image-registry.svc:5000/"+ns+"/") {
		t.Fatalf("PushImage returned %q, want the in-cluster name", ref)
	}
	puller := c.ServiceAccountToken(t, ns, "puller", "system:image-puller")
	c.PullSecret(t, ns, "pull", kubetest.RegistryAuth{Username: "puller", Password: puller})

	pod := func(name string, secrets ...string) *corev1.Pod {
		p := c.ProbePod(name, nil)
		p.Spec.Containers[0].Image = ref
		p.Spec.Containers[0].ImagePullPolicy = corev1.PullAlways
		for _, s := range secrets {
			p.Spec.ImagePullSecrets = append(p.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		return p
	}

	t.Run("without a pull secret the pull is refused", func(t *testing.T) {
		if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, pod("anonymous"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("failed to create pod: %v", err)
		}
		got, err := c.WaitPod(ctx, ns, "anonymous", func(p *corev1.Pod) bool {
			return pullFailure(p) != nil || kubetest.IsReady(p)
		})
		if err != nil && got == nil {
			t.Fatal(err)
		}
		w := pullFailure(got)
		if w == nil {
			t.Fatalf("want an image pull failure, got %v: %s", err, kubetest.PodSummary(got))
		}
		if !strings.Contains(w.Message, "401") && !strings.Contains(strings.ToLower(w.Message), "unauthorized") {
			t.Errorf("the pull failed, but not for want of credentials: %s", w.Message)
		}
	})

	t.Run("with a pull secret the node runs the pushed image", func(t *testing.T) {
		if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, pod("pulled", "pull"), metav1.CreateOptions{}); err != nil {
			t.Fatalf("failed to create pod: %v", err)
		}
		done, err := c.WaitPod(ctx, ns, "pulled", kubetest.IsDone)
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
		logs, err := c.Client.CoreV1().Pods(ns).GetLogs("pulled", &corev1.PodLogOptions{}).DoRaw(logCtx)
		if err != nil {
			t.Fatalf("failed to get logs: %v", err)
		}
		if got := strings.TrimSpace(string(logs)); got != marker {
			t.Errorf("pod printed %q, want the marker %q baked into the pushed image", got, marker)
		}
	})
}
