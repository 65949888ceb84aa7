package openshift

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/paude-dev/paude/pkg/backend"
)

// Cleanup implements backend.Cleaner: it removes every session that is over: pods
// that ended (the agent exited, the idle timeout or the max lifetime
// ended them, or they failed) and sessions stopped with their workspace
// kept, together with all their objects, workspace claims included.
// Running and pending sessions are left alone, as are the persistent
// credentials from the setup command. Then it removes the proxies (and
// their policies) that no running or pending session uses. It prints what
// it removed to out.
func (b *Backend) Cleanup(ctx context.Context, out io.Writer) error {
	settings, err := b.ResolveSettings()
	if err != nil {
		return err
	}
	c, err := b.client()
	if err != nil {
		return err
	}
	ns := settings.Namespace
	objs, err := b.listSessionObjects(ctx, c, ns, "", true)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	reasons := map[string]string{}
	for i := range objs.Pods {
		pod := &objs.Pods[i]
		id := pod.Labels[backend.LabelSessionID]
		if pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
			live[id] = true
			continue
		}
		_, reasons[id] = SessionStatus(pod)
	}
	// Group the objects of every session that is over, in deletion order.
	byID := map[string][]ref{}
	for _, r := range objs.refs() {
		if live[r.Session] || backend.ValidateSessionID(r.Session) != nil {
			continue
		}
		byID[r.Session] = append(byID[r.Session], r)
	}
	ids := slices.Sorted(maps.Keys(byID))
	for _, id := range ids {
		if err := b.deleteRefs(ctx, c, ns, byID[id]); err != nil {
			return fmt.Errorf("failed to clean up session %s: %w", id, err)
		}
		reason := reasons[id]
		if reason == "" {
			reason = "stopped"
		}
		fmt.Fprintf(out, "Removed session %s (%s): %d objects\n", id, reason, len(byID[id]))
	}
	inUse := map[string]bool{}
	for i := range objs.Pods {
		pod := &objs.Pods[i]
		if live[pod.Labels[backend.LabelSessionID]] {
			inUse[pod.Labels[backend.LabelAllowlist]] = true
		}
	}
	if err := b.removeProxies(ctx, c, ns, inUse, out); err != nil {
		return err
	}
	switch {
	case len(ids) == 0 && len(live) == 0:
		if err := b.checkNamespace(ctx, settings); err != nil {
			return err
		}
		fmt.Fprintf(out, "Nothing to clean up in namespace %s\n", ns)
	case len(live) > 0:
		fmt.Fprintf(out, "Left %d running or pending sessions alone: %s ends them\n", len(live), b.hint("stop"))
	}
	return nil
}
