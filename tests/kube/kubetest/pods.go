package kubetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// PodTimeout bounds every wait for a pod. It is a deadline for a hung
// cluster, not a performance expectation.
const PodTimeout = 2 * time.Minute

// ProbePod returns a pod that runs command in the testbed image (busybox and
// /bin/probe). The pod is never restarted and stops at once when deleted.
func (c *Cluster) ProbePod(name string, labels map[string]string, command ...string) *corev1.Pod {
	zero := int64(0)
	no := false
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &zero,
			AutomountServiceAccountToken:  &no,
			Containers: []corev1.Container{{
				Name:            "main",
				Image:           c.Image,
				ImagePullPolicy: corev1.PullNever,
				Command:         command,
			}},
		},
	}
}

// StartPod creates pod in namespace ns and waits until it is Ready; it
// returns the pod as the API server last reported it (with its IP).
func (c *Cluster) StartPod(t testing.TB, ns string, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), PodTimeout)
	defer cancel()
	if _, err := c.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("failed to create pod %s/%s: %v", ns, pod.Name, err)
	}
	ready, err := c.WaitPod(ctx, ns, pod.Name, IsReady)
	if err != nil {
		t.Fatalf("pod %s/%s did not become Ready: %v", ns, pod.Name, err)
	}
	return ready
}

// IsReady reports whether a pod's Ready condition is true.
func IsReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// IsDone reports whether a pod has terminated (Succeeded or Failed).
func IsDone(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// errPodStuck marks a pod that can no longer reach the awaited state.
var errPodStuck = errors.New("pod cannot make progress")

// WaitPod polls pod ns/name until done(pod) holds, ctx ends, or the pod is
// stuck (an image that cannot be pulled, a container that cannot be created,
// or termination when that is not what is awaited).
func (c *Cluster) WaitPod(ctx context.Context, ns, name string, done func(*corev1.Pod) bool) (*corev1.Pod, error) {
	var last *corev1.Pod
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		p, err := c.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("failed to get pod %s/%s: %w", ns, name, err)
		}
		last = p
		if done(p) {
			return true, nil
		}
		if IsDone(p) {
			return false, fmt.Errorf("%w: it terminated: %s", errPodStuck, PodSummary(p))
		}
		for _, s := range p.Status.ContainerStatuses {
			if w := s.State.Waiting; w != nil && stuckReasons[w.Reason] {
				return false, fmt.Errorf("%w: %s", errPodStuck, PodSummary(p))
			}
		}
		return false, nil
	})
	if err != nil && last != nil && !errors.Is(err, errPodStuck) {
		err = fmt.Errorf("%w (last state: %s)", err, PodSummary(last))
	}
	return last, err
}

// stuckReasons are waiting reasons a pod does not recover from in a test.
var stuckReasons = map[string]bool{
	"ErrImageNeverPull":          true,
	"InvalidImageName":           true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"ImagePullBackOff":           true,
}
