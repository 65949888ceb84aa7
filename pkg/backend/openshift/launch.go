package openshift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// launch applies a plan and waits for its pod: the pull secret, the
// allowlist's proxy and policies (waiting until the proxy is ready, so the
// agent starts with its way out in place), then the session's objects;
// once the pod is ready it runs ready (the first sync), when not nil. On
// failure it removes every object it created (never a kept claim, a pull
// secret or a proxy that existed before).
func (b *Backend) launch(ctx context.Context, c *Clients, plan *sessionPlan, cfg *config.Config, progress io.Writer, ready func(context.Context) error) (err error) {
	for _, note := range plan.Notes {
		fmt.Fprintln(progress, note)
	}
	var created []ref
	defer func() {
		if err == nil || len(created) == 0 {
			return
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		// Delete in reverse: the pod first, so nothing holds the claim.
		slices.Reverse(created)
		fmt.Fprintf(progress, "Start failed; removing what it created (%d objects)\n", len(created))
		cerr := b.deleteRefs(cctx, c, plan.Namespace, created)
		if cerr == nil && plan.Proxy != nil && slices.ContainsFunc(created, func(r ref) bool { return r.Kind == "deployment" }) {
			// The proxy this start made goes with its pod.
			cerr = b.waitProxyPodsGone(cctx, c, plan.Namespace, plan.Proxy.Hash)
		}
		if cerr != nil {
			err = fmt.Errorf("%w (cleanup also failed: %w: remove the objects labelled %s by hand)", err, cerr, backend.SessionSelector(plan.ID))
		}
	}()
	started := b.opts.Clock.Now()
	apply := func(obj Object, track bool) error {
		fmt.Fprintf(progress, "Creating %s %s\n", kindOf(obj), obj.GetName())
		// Track before applying: a request that times out may still
		// have created the object.
		if track {
			created = append(created, ref{Kind: kindOf(obj), Name: obj.GetName(), Session: plan.ID})
		}
		if _, err := ServerSideApply(ctx, c.Kube, obj); err != nil {
			return b.apiError(err, "create", kindOf(obj)+" "+obj.GetName(), plan.Namespace)
		}
		return nil
	}
	if plan.PullSecret != nil {
		if err := apply(plan.PullSecret, !plan.PullSecretExisted); err != nil {
			return err
		}
	}
	if p := plan.Proxy; p != nil {
		ip, err := b.ensureProxy(ctx, c, plan.Namespace, p, startTimeout(cfg), &created, progress)
		if err != nil {
			return err
		}
		plan.Pod.Spec.HostAliases = proxyHost(ip)
		b.ensureFirewall(ctx, c, plan.Namespace, p.Domains, progress)
	}
	for _, obj := range plan.sessionObjects() {
		if err := apply(obj, true); err != nil {
			return err
		}
	}
	if err := b.waitForPod(ctx, c, plan.Namespace, plan.Pod.Name, startTimeout(cfg), progress); err != nil {
		var failed *PodFailedError
		if errors.As(err, &failed) && failed.Container == egressCheckContainer {
			if failed.ExitCode == egressCheckExit {
				return b.errNotEnforced(firstLine(failed.Message))
			}
			// It could not run its probes at all: no verdict on the
			// network, and no session either.
			return fmt.Errorf("the session's egress check could not run (exit code %d): %w: an image given with --image needs /bin/bash, timeout and date, as paude's images have", failed.ExitCode, err)
		}
		return err
	}
	if ready != nil {
		if err := ready(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(progress, "Session %s is ready (%s)\n", plan.ID, b.opts.Clock.Since(started).Round(100*time.Millisecond))
	return nil
}

// missingKinds are the credential kinds not found locally.
func missingKinds(local []LocalCredential) []CredentialKind {
	var missing []CredentialKind
	for _, kind := range CredentialKinds {
		if !slices.ContainsFunc(local, func(l LocalCredential) bool { return l.Kind == kind }) {
			missing = append(missing, kind)
		}
	}
	return missing
}
