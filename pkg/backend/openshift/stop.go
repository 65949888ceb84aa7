package openshift

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
)

// StopSession brings the session's last changes back first (a final
// sync, the agent's commits fetched), when its pod runs. Then it deletes
// the pod (grace period 0), its credential and env Secrets, all found by
// the label paude.io/session-id, and its workspace claim unless
// backend.workspace.keepOnStop is set, or the final sync failed (the
// claim then keeps what could not come back). A session that is already
// gone is not an error.
func (b *Backend) StopSession(ctx context.Context, id string) error {
	if err := validateID(id); err != nil {
		return err
	}
	return b.stop(ctx, id, b.finalSync(ctx, id))
}

// finalSync syncs a running session once before it stops and reports
// whether that failed, so that its workspace claim must be kept.
func (b *Backend) finalSync(ctx context.Context, id string) (failed bool) {
	w, err := b.WorkspaceCopy(ctx, id)
	if err != nil {
		// Not running, or gone: there is nothing to bring back.
		return false
	}
	if err := w.Once(ctx, b.opts.Progress); err != nil {
		fmt.Fprintf(b.opts.Warnings, "Warning: %v\n", err)
		return true
	}
	return false
}

// StopAll stops every session in the namespace, as StopSession does, and
// removes what sessions share: every proxy and its policies, the
// EgressFirewall paude made, the pull secret of paude's images.
func (b *Backend) StopAll(ctx context.Context) error {
	if err := b.stop(ctx, "", false); err != nil {
		return err
	}
	settings, err := b.ResolveSettings()
	if err != nil {
		return err
	}
	c, err := b.client()
	if err != nil {
		return err
	}
	ns := settings.Namespace
	if err := b.removeProxies(ctx, c, ns, nil, b.opts.Progress); err != nil {
		return err
	}
	if err := b.removeFirewall(ctx, c, ns); err != nil {
		return err
	}
	exists, err := b.pullSecretExists(ctx, c, ns)
	if err != nil || !exists {
		return err
	}
	r := ref{Kind: "secret", Name: PullSecretName}
	if err := b.deleteRef(ctx, c, ns, r); err != nil {
		return fmt.Errorf("failed to remove the pull secret: %w", err)
	}
	b.progressf("Deleted %s", r)
	return nil
}

// stop removes one session's objects, or every session's when id is "";
// keepClaim keeps the workspace claim whatever the configuration says.
func (b *Backend) stop(ctx context.Context, id string, keepClaim bool) error {
	settings, err := b.ResolveSettings()
	if err != nil {
		return err
	}
	c, err := b.client()
	if err != nil {
		return err
	}
	ns := settings.Namespace
	keep := b.cfg.Backend.Workspace.KeepOnStop || keepClaim
	objs, err := b.listSessionObjects(ctx, c, ns, id, !keep)
	if err != nil {
		return err
	}
	refs := objs.refs()
	what := "session " + id
	if id == "" {
		what = "sessions"
	}
	if len(refs) == 0 {
		if err := b.checkNamespace(ctx, settings); err != nil {
			return err
		}
		b.progressf("No running %s in namespace %s: nothing to stop", what, ns)
	}
	for _, r := range refs {
		if err := b.deleteRef(ctx, c, ns, r); err != nil {
			return fmt.Errorf("failed to stop %s: %w", what, err)
		}
		b.progressf("Deleted %s", r)
	}
	if keep {
		selector := backend.AllSessionsSelector
		if id != "" {
			selector = backend.SessionSelector(id)
		}
		claims, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return b.apiError(err, "list", "persistentvolumeclaims", ns)
		}
		for _, claim := range claims.Items {
			sid := claim.Labels[backend.LabelSessionID]
			b.progressf("Kept workspace volume %s: %s resumes the session, %s removes it", claim.Name, b.hint("attach "+sid), b.hint("cleanup"))
		}
	}
	return nil
}
