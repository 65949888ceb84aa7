package openshift

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/termfilter"
)

// Reasons for stopped sessions.
const (
	ReasonKept        = "pod gone, workspace kept: attach to resume"
	ReasonTerminating = "Terminating"
	ReasonDeadline    = "max lifetime reached"
	ReasonTimedOut    = "idle timeout or max lifetime reached"
	ReasonExited      = "agent exited"
)

// SessionStatus maps a session pod to the user-facing status and reason:
// running, pending (with what it waits for), stopped (ended normally or
// by a limit) or error (with the reason).
func SessionStatus(pod *corev1.Pod) (backend.Status, string) {
	if pod.DeletionTimestamp != nil {
		return backend.StatusStopped, ReasonTerminating
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return backend.StatusStopped, ReasonExited
	case corev1.PodFailed:
		if pod.Status.Reason == "DeadlineExceeded" {
			return backend.StatusStopped, ReasonDeadline
		}
		for _, cs := range pod.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil && cs.Name == ContainerName {
				switch t.ExitCode {
				case 0:
					return backend.StatusStopped, ReasonExited
				case 124:
					return backend.StatusStopped, ReasonTimedOut
				}
			}
		}
		reason, message := endReason(pod)
		if pod.Status.Reason == "" {
			// A container's message is the tail of its log (the
			// termination message policy): too long for a listing.
			message = ""
		}
		return backend.StatusError, joinReason(reason, firstLine(message))
	case corev1.PodUnknown:
		return backend.StatusError, "node unreachable: pod state unknown"
	case corev1.PodRunning:
		return backend.StatusRunning, ""
	}
	_, status, err := podState(pod)
	var failed *PodFailedError
	if errors.As(err, &failed) {
		return backend.StatusError, joinReason(failed.Reason, firstLine(failed.Message))
	}
	return backend.StatusPending, status
}

// firstLine keeps a message's first non-empty line, for one-line reasons.
func firstLine(message string) string {
	for _, line := range strings.Split(message, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			// Pod messages can carry the container's log: printable only.
			return termfilter.Sanitize(line)
		}
	}
	return ""
}

func joinReason(reason, message string) string {
	if message == "" || strings.Contains(reason, message) {
		return reason
	}
	return reason + ": " + message
}

// createdAt reads the recorded start time, falling back to the object's.
func createdAt(obj metav1.Object) time.Time {
	if t, err := time.Parse(time.RFC3339, obj.GetAnnotations()[AnnotationCreatedAt]); err == nil {
		return t
	}
	return obj.GetCreationTimestamp().Time
}

// ListSessions lists the sessions in the namespace, newest first: one
// LIST of pods and one of workspace claims, both by label. A claim
// without a pod is a stopped session that attach can resume.
func (b *Backend) ListSessions(ctx context.Context) ([]backend.Session, error) {
	settings, err := b.ResolveSettings()
	if err != nil {
		return nil, err
	}
	c, err := b.client()
	if err != nil {
		return nil, err
	}
	pods, claims, err := b.listPodsAndClaims(ctx, c, settings.Namespace)
	if err != nil {
		return nil, err
	}
	if len(pods) == 0 && len(claims) == 0 {
		// Listing a namespace that does not exist returns nothing;
		// say so rather than show an empty table.
		if err := b.checkNamespace(ctx, settings); err != nil {
			return nil, err
		}
	}
	return sessionsFrom(pods, claims), nil
}

// listPodsAndClaims lists session pods and claims by label.
func (b *Backend) listPodsAndClaims(ctx context.Context, c *Clients, ns string) ([]corev1.Pod, []corev1.PersistentVolumeClaim, error) {
	opts := metav1.ListOptions{LabelSelector: backend.AllSessionsSelector}
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, opts)
	if err != nil {
		return nil, nil, b.apiError(err, "list", "pods", ns)
	}
	claims, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, opts)
	if err != nil {
		return nil, nil, b.apiError(err, "list", "persistentvolumeclaims", ns)
	}
	return pods.Items, claims.Items, nil
}

// sessionsFrom merges pods and claims into sessions, newest first.
func sessionsFrom(pods []corev1.Pod, claims []corev1.PersistentVolumeClaim) []backend.Session {
	byID := map[string]backend.Session{}
	for i := range pods {
		pod := &pods[i]
		id := pod.Labels[backend.LabelSessionID]
		if backend.ValidateSessionID(id) != nil {
			continue
		}
		status, reason := SessionStatus(pod)
		byID[id] = backend.Session{
			ID: id, Status: status, Reason: reason,
			Workspace: pod.Annotations[AnnotationWorkspace],
			CreatedAt: createdAt(pod), BackendType: backend.OpenShift,
			Network: pod.Labels[backend.LabelNetworkMode],
		}
	}
	for i := range claims {
		claim := &claims[i]
		id := claim.Labels[backend.LabelSessionID]
		// A claim being deleted belongs to a session on its way out: it
		// cannot be resumed.
		if _, ok := byID[id]; ok || claim.DeletionTimestamp != nil || backend.ValidateSessionID(id) != nil {
			continue
		}
		byID[id] = backend.Session{
			ID: id, Status: backend.StatusStopped, Reason: ReasonKept,
			Workspace: claim.Annotations[AnnotationWorkspace],
			CreatedAt: createdAt(claim), BackendType: backend.OpenShift,
		}
	}
	sessions := make([]backend.Session, 0, len(byID))
	for _, s := range byID {
		sessions = append(sessions, s)
	}
	slices.SortFunc(sessions, func(a, b backend.Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	})
	return sessions
}

// sessionIDs lists known session IDs for a not-found message.
func (b *Backend) sessionIDs(ctx context.Context) []string {
	sessions, err := b.ListSessions(ctx)
	if err != nil {
		return nil
	}
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	return ids
}
