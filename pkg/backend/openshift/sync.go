package openshift

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
)

// ErrNoSyncer is returned by SyncWorkspace when the Backend was built
// without a Syncer.
var ErrNoSyncer = errors.New("no workspace sync engine is configured for the openshift backend")

// SyncTarget is the running session pod a Syncer copies files to and from.
type SyncTarget struct {
	Namespace string
	Pod       string
	Container string
	// Dir is the project directory inside the pod.
	Dir string
	// Workspace is the project directory on the user's machine.
	Workspace string
	// Clients reach the API server (exec for tar streams).
	Clients *Clients
	// Executor runs commands in the pod.
	Executor Executor
}

// Syncer copies files between a workspace and a session pod.
type Syncer interface {
	Sync(ctx context.Context, target SyncTarget, dir backend.Direction) error
}

// SyncWorkspace hands the running session's pod to the configured Syncer.
func (b *Backend) SyncWorkspace(ctx context.Context, id string, dir backend.Direction) error {
	if err := validateID(id); err != nil {
		return err
	}
	switch dir {
	case backend.SyncPush, backend.SyncPull, backend.SyncBoth:
	default:
		return fmt.Errorf("invalid sync direction %q: use push, pull or both", dir)
	}
	settings, err := b.ResolveSettings()
	if err != nil {
		return err
	}
	c, err := b.client()
	if err != nil {
		return err
	}
	ns, name := settings.Namespace, PodName(id)
	pod, err := c.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &backend.NotFoundError{ID: id, Known: b.sessionIDs(ctx)}
	}
	if err != nil {
		return b.apiError(err, "get", "pod "+name, ns)
	}
	if pod.Status.Phase != corev1.PodRunning {
		status, reason := SessionStatus(pod)
		return fmt.Errorf("session %s is %s (%s): sync needs a running session: `paude attach %s` starts it again", id, status, reason, id)
	}
	if b.opts.Syncer == nil {
		return ErrNoSyncer
	}
	return b.opts.Syncer.Sync(ctx, SyncTarget{
		Namespace: ns, Pod: name, Container: ContainerName,
		Dir:       WorkspaceDirFor(pod.Annotations[AnnotationWorkspace]),
		Workspace: pod.Annotations[AnnotationWorkspace],
		Clients:   c, Executor: b.opts.Executor,
	}, dir)
}
