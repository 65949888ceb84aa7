package openshift

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/gitboundary"
	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/pkg/sync"
)

// A session pod starts on an empty volume. Its workspace arrives through
// package sync, over the pod's exec API (podExec), and the life of that
// copy (the first sync before the agent starts, sync while attached, the
// final pull and the fetch of the agent's commits) is backend.WorkspaceCopy's.
// This file only says where the copy is and how to reach it.

var _ backend.WorkspaceCopier = (*Backend)(nil)

// WorkspaceCopy implements backend.WorkspaceCopier: the copy of a session
// whose pod is running and ready.
func (b *Backend) WorkspaceCopy(ctx context.Context, id string) (*backend.WorkspaceCopy, error) {
	if err := validateID(id); err != nil {
		return nil, err
	}
	settings, err := b.ResolveSettings()
	if err != nil {
		return nil, err
	}
	c, err := b.client()
	if err != nil {
		return nil, err
	}
	ns, name := settings.Namespace, PodName(id)
	claim, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, ClaimName(id), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		claim = nil
	case err != nil:
		return nil, b.apiError(err, "get", "persistentvolumeclaim "+ClaimName(id), ns)
	}
	pod, err := c.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) && claim == nil:
		if err := b.checkNamespace(ctx, settings); err != nil {
			return nil, err
		}
		return nil, &backend.NotFoundError{ID: id, Known: b.sessionIDs(ctx), Command: b.opts.Command}
	case apierrors.IsNotFound(err):
		return nil, &backend.NotRunningError{ID: id, Why: "its pod is gone, its workspace volume is kept", Hint: b.hint("attach "+id) + " resumes it"}
	case err != nil:
		return nil, b.apiError(err, "get", "pod "+name, ns)
	}
	if ready, status, _ := podState(pod); !ready || pod.DeletionTimestamp != nil {
		if pod.DeletionTimestamp != nil {
			status = "being stopped"
		}
		return nil, &backend.NotRunningError{ID: id, Why: "pod " + name + " is " + status, Hint: b.hint("attach "+id) + " waits for it or resumes it"}
	}
	return b.copyOf(c, ns, pod, claim), nil
}

// copyOf is the copy of the session whose pod is pod, synced as its claim
// records (claim may be nil: a session without one syncs natively with
// sync's default excludes).
func (b *Backend) copyOf(c *Clients, ns string, pod *corev1.Pod, claim *corev1.PersistentVolumeClaim) *backend.WorkspaceCopy {
	id := pod.Labels[backend.LabelSessionID]
	host := pod.Annotations[AnnotationWorkspace]
	w := &backend.WorkspaceCopy{
		SessionID: id,
		Workspace: host,
		Remote:    WorkspaceDirFor(host),
		Pod:       pod.Name,
		Exec:      podExec{b: b, c: c, ns: ns, pod: pod.Name},
		Helper:    image.HelperPath,
		ReadyFile: WorkspaceReadyFile,
		Method:    sync.MethodNative,
		DevSpace:  b.devSpaceTarget(ns, pod.Name),
		Command:   b.opts.Command,
		NewSyncer: b.opts.NewSyncer,
	}
	if claim != nil {
		if m := claim.Annotations[AnnotationSyncMethod]; m != "" {
			w.Method = m
		}
		var excludes []string
		if raw := claim.Annotations[AnnotationSyncExclude]; raw != "" && json.Unmarshal([]byte(raw), &excludes) == nil {
			w.Excludes = excludes
		}
	}
	return w
}

// devSpaceTarget is how the devspace CLI reaches a pod: the namespace,
// and the context and kubeconfig paude was given.
func (b *Backend) devSpaceTarget(ns, pod string) sync.DevSpaceTarget {
	t := sync.DevSpaceTarget{Namespace: ns, Pod: pod, Container: ContainerName}
	if f, ok := b.opts.ConfigFlags.(*genericclioptions.ConfigFlags); ok {
		if f.Context != nil {
			t.KubeContext = *f.Context
		}
		if f.KubeConfig != nil {
			t.Kubeconfig = *f.KubeConfig
		}
	}
	return t
}

// firstSync is a new session's first sync, run once its pod is ready and
// before the start returns (a failure removes what the start created):
// the workspace is copied in and the session gets its own repository
// (repo; nil when the workspace is none), then the agent's pane, which
// waited, starts setup and the agent.
func (b *Backend) firstSync(ctx context.Context, c *Clients, plan *sessionPlan, repo *gitboundary.Repo, progress io.Writer) error {
	return b.copyOf(c, plan.Namespace, plan.Pod, plan.Claim).First(ctx, repo, progress)
}

// syncWhileAttached starts sync for an attach; it returns nil, after a
// warning, when sync cannot start: the attach goes on without it (the
// session is there, and `sync` can try again).
func (b *Backend) syncWhileAttached(ctx context.Context, c *Clients, ns, id string) (*backend.WorkspaceCopy, sync.Syncer) {
	pod, err := c.Kube.CoreV1().Pods(ns).Get(ctx, PodName(id), metav1.GetOptions{})
	if err != nil {
		fmt.Fprintf(b.opts.Warnings, "Warning: not syncing the workspace: %v\n", b.apiError(err, "get", "pod "+PodName(id), ns))
		return nil, nil
	}
	claim, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, ClaimName(id), metav1.GetOptions{})
	if err != nil {
		claim = nil
	}
	w := b.copyOf(c, ns, pod, claim)
	s, err := w.Start(ctx, b.opts.Progress)
	if err != nil {
		fmt.Fprintf(b.opts.Warnings, "Warning: %v; attaching without sync: your changes and the session's stay apart until %s succeeds\n", err, b.hint("sync "+id))
		return nil, nil
	}
	return w, s
}
