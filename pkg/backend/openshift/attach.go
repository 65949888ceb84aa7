package openshift

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
)

// goneTimeout bounds the wait for an ended pod to leave the API before a
// resume reuses its name.
const goneTimeout = time.Minute

// AttachSession connects the streams to the session's tmux and returns
// the remote exit code: the agent's when it has ended, 0 on detach. A
// pending pod is waited for; a session whose pod is gone or has ended but
// whose workspace claim is kept is resumed on a new pod (after saying
// so); an unknown ID is a *backend.NotFoundError listing the sessions.
func (b *Backend) AttachSession(ctx context.Context, id string, streams genericiooptions.IOStreams) (int, error) {
	if err := validateID(id); err != nil {
		return 1, err
	}
	settings, err := b.ResolveSettings()
	if err != nil {
		return 1, err
	}
	c, err := b.client()
	if err != nil {
		return 1, err
	}
	ns, name := settings.Namespace, PodName(id)
	pod, err := c.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		pod = nil
	case err != nil:
		return 1, b.apiError(err, "get", "pod "+name, ns)
	}
	if pod == nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		if err := b.resume(ctx, c, settings, id, pod); err != nil {
			return 1, err
		}
	} else if pod.DeletionTimestamp != nil {
		return 1, fmt.Errorf("session %s is being stopped: wait for it to end, then %s resumes it if its workspace was kept", id, b.hint("attach "+id))
	} else if ready, _, _ := podState(pod); !ready {
		if err := b.waitForPod(ctx, c, ns, name, startTimeout(b.cfg), b.opts.Progress); err != nil {
			return 1, err
		}
	}
	// The workspace is synced while the terminal is attached; when the
	// attach ends (detach, the agent's exit, a lost connection), the
	// session's last changes and the agent's commits come back.
	w, s := b.syncWhileAttached(ctx, c, ns, id)
	code, err := b.attachTerminal(ctx, c, ns, name, streams)
	if s != nil {
		if ferr := w.Finish(ctx, s, b.opts.Progress); ferr != nil {
			fmt.Fprintf(b.opts.Warnings, "Warning: %v\n", ferr)
		}
	}
	return code, err
}

// resume starts a new pod for a session whose pod is gone (ended is the
// ended pod, or nil) on its kept workspace claim. Without a claim the
// session is unknown.
func (b *Backend) resume(ctx context.Context, c *Clients, s Settings, id string, ended *corev1.Pod) error {
	ns := s.Namespace
	claim, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, ClaimName(id), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if ended != nil {
			status, reason := SessionStatus(ended)
			return fmt.Errorf("session %s has %s (%s) and its workspace volume is gone: %s removes it", id, status, reason, b.hint("stop "+id))
		}
		if err := b.checkNamespace(ctx, s); err != nil {
			return err
		}
		return &backend.NotFoundError{ID: id, Known: b.sessionIDs(ctx), Command: b.opts.Command}
	}
	if err != nil {
		return b.apiError(err, "get", "persistentvolumeclaim "+ClaimName(id), ns)
	}
	if claim.DeletionTimestamp != nil {
		return fmt.Errorf("session %s is being removed (its workspace volume is being deleted): start a new session with %s", id, b.hint(""))
	}
	var in planInput
	if err := resumeInput(claim, &in, b.hint("")); err != nil {
		return err
	}
	if ended != nil {
		_, reason := SessionStatus(ended)
		b.progressf("Session %s ended (%s); resuming it on its kept workspace volume %s", id, reason, claim.Name)
	} else {
		b.progressf("Session %s has no pod; resuming it on its kept workspace volume %s", id, claim.Name)
	}
	local, skipped, err := ReadCredentials(b.opts.Home)
	if err != nil {
		return err
	}
	openNet := claim.Annotations[AnnotationNetwork] == backend.NetworkOpen
	_, user, err := b.preflight(ctx, s, accessFor(openNet))
	if err != nil {
		return err
	}
	if host := claim.Annotations[AnnotationPullSecret]; host != "" {
		// The pod pulls again: the pull secret gets the current token.
		if in.PullSecret, in.PullSecretExisted, err = b.refreshedPullSecret(ctx, c, ns, host, user); err != nil {
			return err
		}
	}
	if !openNet {
		if err := b.resumeNetwork(ctx, c, s, user, &in); err != nil {
			return err
		}
	}
	persistent, err := b.persistentCredentials(ctx, c, ns, missingKinds(local))
	if err != nil {
		return err
	}
	if ended != nil {
		if err := b.deleteRef(ctx, c, ns, ref{Kind: "pod", Name: ended.Name, Session: id}); err != nil {
			return err
		}
		if err := b.waitGone(ctx, c, ns, ended.Name); err != nil {
			return err
		}
	}
	in.ID, in.Namespace, in.Config, in.HostEnv = id, ns, b.cfg, b.hostEnv()
	in.Local, in.Persistent, in.Skipped = local, persistent, skipped
	plan, err := buildPlan(in)
	if err != nil {
		return err
	}
	if plan.Env == nil {
		// The config no longer sets any values: the env Secret of an
		// earlier start must not keep them.
		if err := b.deleteRef(ctx, c, ns, ref{Kind: "secret", Name: EnvSecretName(id), Session: id}); err != nil {
			return err
		}
	}
	return b.launch(ctx, c, plan, b.cfg, b.opts.Progress, nil)
}

// resumeInput reads what a start recorded on the workspace claim; start
// is the command that starts a new session, for messages.
func resumeInput(claim *corev1.PersistentVolumeClaim, in *planInput, start string) error {
	a := claim.Annotations
	in.Image = a[AnnotationImage]
	in.HostWorkspace = a[AnnotationWorkspace]
	if in.Image == "" {
		return fmt.Errorf("workspace volume %s does not record an image, so it cannot be resumed: start a new session with %s", claim.Name, start)
	}
	if raw := a[AnnotationAgentArgs]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &in.AgentArgs); err != nil {
			return fmt.Errorf("workspace volume %s has invalid %s: %w: start a new session with %s", claim.Name, AnnotationAgentArgs, err, start)
		}
	}
	in.Yolo, _ = strconv.ParseBool(a[AnnotationYolo])
	in.CreatedAt = createdAt(claim)
	return nil
}

// waitGone waits until a deleted pod has left the API, so its name can
// be reused.
func (b *Backend) waitGone(ctx context.Context, c *Clients, ns, name string) error {
	ctx, cancel := context.WithTimeout(ctx, goneTimeout)
	defer cancel()
	pods := c.Kube.CoreV1().Pods(ns)
	for {
		pod, err := pods.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return b.apiError(err, "get", "pod "+name, ns)
		}
		w, err := pods.Watch(ctx, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("metadata.name", name).String(),
			ResourceVersion: pod.ResourceVersion,
		})
		if err != nil {
			return b.apiError(err, "watch", "pod "+name, ns)
		}
		gone, err := waitDeleted(ctx, w)
		w.Stop()
		if gone {
			return nil
		}
		if err != nil {
			return fmt.Errorf("pod %s is still being deleted after %s: retry in a moment", name, goneTimeout)
		}
	}
}

// waitDeleted reads a watch until a Deleted event (true), the watch's
// end (false, nil: watch again) or the context's end (false, error).
func waitDeleted(ctx context.Context, w watch.Interface) (bool, error) {
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false, nil
			}
			if ev.Type == watch.Deleted {
				return true, nil
			}
		}
	}
}

// resumeNetwork puts a resumed session back behind the proxy of the
// current configuration's allowlist, pushing the proxy image if the
// registry lacks it.
func (b *Backend) resumeNetwork(ctx context.Context, c *Clients, s Settings, user string, in *planInput) error {
	allowlist, err := b.allowlistOf(b.cfg, false)
	if err != nil {
		return err
	}
	iplan, images, err := b.sessionImages(ctx, c, s, user, backend.SessionSpec{Config: b.cfg, Image: in.Image}, b.cfg)
	if err != nil {
		return err
	}
	if iplan != nil {
		if err := b.ensureImages(ctx, iplan, false, b.opts.Progress); err != nil {
			return err
		}
	}
	if images.PullSecret != nil {
		in.PullSecret, in.PullSecretExisted = images.PullSecret, images.PullSecretExisted
	}
	in.Proxy, in.Network, err = b.planNetwork(ctx, c, s.Namespace, b.cfg, allowlist, images)
	return err
}
