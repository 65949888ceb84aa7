package openshift

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// cleanupTimeout bounds the removal of a failed start's objects; it runs
// even when the caller's context is already cancelled (Ctrl-C).
const cleanupTimeout = 30 * time.Second

// StartSession starts a session: it checks the connection, the namespace
// and the permissions it needs, then creates the workspace claim, the
// session's credential Secrets, its env Secret (the environment values
// from paude.json and the host, when there are any) and the pod
// (server-side apply, field manager "paude"), and watches the pod until
// it is Ready. On any failure it deletes what this start created before
// returning the error.
func (b *Backend) StartSession(ctx context.Context, spec backend.SessionSpec) (*backend.Session, error) {
	cfg := spec.Config
	if cfg == nil {
		cfg = b.cfg
	}
	progress := spec.Progress
	if progress == nil {
		progress = b.opts.Progress
	}
	if spec.Image == "" {
		return nil, fmt.Errorf("no image for the openshift backend: pass --image with an image the cluster can pull")
	}
	if !filepath.IsAbs(spec.Workspace) {
		return nil, fmt.Errorf("workspace %q is not an absolute path", spec.Workspace)
	}
	settings, err := b.resolveSettings(cfg)
	if err != nil {
		return nil, err
	}
	now := b.opts.Clock.Now()
	id, err := backend.NewSessionID(now, b.opts.Random)
	if err != nil {
		return nil, err
	}
	local, skipped, err := ReadCredentials(b.opts.Home)
	if err != nil {
		return nil, err
	}
	c, err := b.preflight(ctx, settings, StartAccess)
	if err != nil {
		return nil, err
	}
	persistent, err := b.persistentCredentials(ctx, c, settings.Namespace, missingKinds(local))
	if err != nil {
		return nil, err
	}
	plan, err := buildPlan(planInput{
		ID: id, Namespace: settings.Namespace, Config: cfg, Image: spec.Image,
		HostWorkspace: spec.Workspace, AgentArgs: spec.AgentArgs, Yolo: spec.Yolo,
		CreatedAt: now, HostEnv: b.hostEnv(), Local: local, Persistent: persistent,
		Skipped: skipped, NewClaim: true,
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "Starting session %s in namespace %s\n", id, settings.Namespace)
	if err := b.launch(ctx, c, plan, cfg, progress); err != nil {
		return nil, err
	}
	return &backend.Session{
		ID: id, Status: backend.StatusRunning, Workspace: spec.Workspace,
		CreatedAt: now, BackendType: backend.OpenShift,
	}, nil
}

// preflight checks the connection, the namespace and the permissions.
func (b *Backend) preflight(ctx context.Context, s Settings, needs []Access) (*Clients, error) {
	c, err := b.client()
	if err != nil {
		return nil, err
	}
	user, err := b.CheckConnection(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.checkNamespace(ctx, s); err != nil {
		return nil, err
	}
	if err := b.CheckAccess(ctx, s.Namespace, user, needs); err != nil {
		return nil, err
	}
	return c, nil
}

// launch applies a plan and waits for its pod; on failure it removes
// every object it applied (never a kept claim it did not create).
func (b *Backend) launch(ctx context.Context, c *Clients, plan *sessionPlan, cfg *config.Config, progress io.Writer) (err error) {
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
		if cerr := b.deleteRefs(cctx, c, plan.Namespace, created); cerr != nil {
			err = fmt.Errorf("%w (cleanup also failed: %w: remove the objects labelled %s by hand)", err, cerr, backend.SessionSelector(plan.ID))
		}
	}()
	started := b.opts.Clock.Now()
	for _, obj := range plan.objects() {
		fmt.Fprintf(progress, "Creating %s %s\n", kindOf(obj), obj.GetName())
		// Track before applying: a request that times out may still
		// have created the object.
		created = append(created, ref{Kind: kindOf(obj), Name: obj.GetName(), Session: plan.ID})
		if _, err := ServerSideApply(ctx, c.Kube, obj); err != nil {
			return b.apiError(err, "create", kindOf(obj)+" "+obj.GetName(), plan.Namespace)
		}
	}
	if err := b.waitForPod(ctx, c, plan.Namespace, plan.Pod.Name, startTimeout(cfg), progress); err != nil {
		return err
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
