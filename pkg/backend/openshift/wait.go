package openshift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/paude-dev/paude/pkg/progress"
	"github.com/paude-dev/paude/pkg/termfilter"
)

// failFastReasons are container waiting reasons that will not fix
// themselves; a start stops waiting as soon as one appears.
var failFastReasons = map[string]bool{
	"ErrImagePull":               true,
	"ImagePullBackOff":           true,
	"InvalidImageName":           true,
	"CrashLoopBackOff":           true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
}

// PodFailedError says why a session pod cannot become ready.
type PodFailedError struct {
	Pod string
	// Container is the container that failed, "" when the pod did.
	Container string
	// Reason is the Kubernetes reason ("ImagePullBackOff", "Unschedulable").
	Reason  string
	Message string
	// ExitCode is the failed container's exit code (0 when it did not
	// end, or the pod failed as a whole).
	ExitCode int32
}

func (e *PodFailedError) Error() string {
	msg := fmt.Sprintf("pod %s failed to start: %s", e.Pod, e.Reason)
	if e.Message != "" {
		// A termination message can be the container's last log lines,
		// which the agent may write: no escape sequences through.
		msg += ": " + termfilter.Sanitize(e.Message)
	}
	switch e.Reason {
	case "ErrImagePull", "ImagePullBackOff", "InvalidImageName":
		msg += ": check the image name and that the cluster can pull it"
	case "Unschedulable":
		msg += ": lower backend.resources or ask for more capacity"
	case "CreateContainerConfigError":
		msg += ": check the pod's env, secrets and volumes with `kubectl describe pod`"
	}
	return msg
}

// podState inspects a pod: ready, or failed for good, or still on its
// way with a short status for progress lines.
func podState(pod *corev1.Pod) (ready bool, status string, err error) {
	fail := func(reason, message string) (bool, string, error) {
		return false, reason, &PodFailedError{Pod: pod.Name, Reason: reason, Message: message}
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		reason, message := endReason(pod)
		return fail(reason, message)
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true, "Ready", nil
		}
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			if waitsForClaim(c.Message) {
				return false, "waiting for the workspace volume", nil
			}
			return fail(c.Reason, c.Message)
		}
	}
	statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil {
			if failFastReasons[w.Reason] {
				return fail(w.Reason, w.Message)
			}
			if w.Reason != "" {
				status = w.Reason
			}
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return false, terminatedReason(t), &PodFailedError{Pod: pod.Name, Container: cs.Name,
				Reason: terminatedReason(t), Message: t.Message, ExitCode: t.ExitCode}
		}
	}
	if status == "" {
		status = string(pod.Status.Phase)
		if status == "" {
			status = "Pending"
		}
		if pod.Spec.NodeName == "" {
			status = "waiting to be scheduled"
		}
	}
	return false, status, nil
}

// waitsForClaim recognises the scheduler waiting for a PVC to bind,
// which dynamic provisioning resolves on its own.
func waitsForClaim(message string) bool {
	m := strings.ToLower(message)
	return strings.Contains(m, "unbound immediate persistentvolumeclaims") ||
		strings.Contains(m, "persistentvolumeclaim") && strings.Contains(m, "not found")
}

// endReason explains why a pod's containers ended.
func endReason(pod *corev1.Pod) (string, string) {
	if pod.Status.Reason != "" {
		return pod.Status.Reason, pod.Status.Message
	}
	statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if t := cs.State.Terminated; t != nil && (t.ExitCode != 0 || cs.Name == ContainerName) {
			return terminatedReason(t), t.Message
		}
	}
	return string(pod.Status.Phase), pod.Status.Message
}

// terminatedReason words a terminated container state.
func terminatedReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.ExitCode == 124:
		return "TimedOut (idle timeout or max lifetime reached)"
	case t.Reason != "" && t.Reason != "Error" && t.Reason != "Completed":
		return fmt.Sprintf("%s (exit code %d)", t.Reason, t.ExitCode)
	}
	return fmt.Sprintf("exited with code %d", t.ExitCode)
}

// waitForPod watches a pod until it is Ready, fails for good, vanishes
// or timeout passes, as a step on out showing the pod's status.
func (b *Backend) waitForPod(ctx context.Context, c *Clients, ns, name string, timeout time.Duration, out io.Writer) (err error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pods := c.Kube.CoreV1().Pods(ns)
	last := ""
	step := progress.For(out).Start("Waiting for pod "+name, progress.Nothing, 0)
	defer func() { step.Done(err) }()
	report := func(status string) {
		step.Status(status)
		last = status
	}
	for {
		pod, err := pods.Get(wctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("pod %s was deleted before it became ready", name)
		}
		if err != nil {
			return b.waitError(ctx, wctx, err, ns, name, timeout, last)
		}
		ready, status, err := podState(pod)
		if ready || err != nil {
			return err
		}
		report(status)
		w, err := pods.Watch(wctx, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("metadata.name", name).String(),
			ResourceVersion: pod.ResourceVersion,
		})
		if err != nil {
			return b.waitError(ctx, wctx, err, ns, name, timeout, last)
		}
		done, err := b.watchPod(wctx, w, name, report)
		w.Stop()
		if done || err != nil {
			if err != nil && wctx.Err() != nil {
				return b.waitError(ctx, wctx, err, ns, name, timeout, last)
			}
			return err
		}
		// The watch ended (server timeout, expired resource version):
		// read the pod again and watch on.
	}
}

// watchPod consumes one watch. It returns true when the pod is ready, an
// error when it failed, and (false, nil) when the watch ended and must
// restart.
func (b *Backend) watchPod(ctx context.Context, w watch.Interface, name string, report func(string)) (bool, error) {
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false, nil
			}
			switch ev.Type {
			case watch.Deleted:
				return false, fmt.Errorf("pod %s was deleted before it became ready", name)
			case watch.Error:
				return false, nil
			case watch.Added, watch.Modified:
				pod, ok := ev.Object.(*corev1.Pod)
				if !ok || pod.Name != name {
					continue
				}
				ready, status, err := podState(pod)
				if ready || err != nil {
					return ready, err
				}
				report(status)
			}
		}
	}
}

// waitError words a failure while waiting: the caller's cancellation,
// the start timeout (with a hint about a pending workspace volume), or
// an API error.
func (b *Backend) waitError(parent, wctx context.Context, err error, ns, name string, timeout time.Duration, last string) error {
	if parent.Err() != nil {
		return fmt.Errorf("failed to wait for pod %s: %w", name, parent.Err())
	}
	if wctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		msg := fmt.Sprintf("pod %s did not become ready within %s (last status: %s)", name, timeout, last)
		if last == "waiting for the workspace volume" {
			msg += ": the workspace volume claim is not bound: check that the namespace has a default storage class or set backend.workspace.storageClass"
		} else {
			msg += fmt.Sprintf(": inspect it with `kubectl describe pod %s -n %s` or raise backend.startTimeout", name, ns)
		}
		return errors.New(msg)
	}
	return b.apiError(err, "watch", "pod "+name, ns)
}
