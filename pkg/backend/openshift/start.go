package openshift

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
)

// cleanupTimeout bounds the removal of a failed start's objects; it runs
// even when the caller's context is already cancelled (Ctrl-C).
const cleanupTimeout = 30 * time.Second

// StartSession starts a session: it checks the connection, the namespace
// and the permissions it needs, builds and pushes the session's images
// unless the registry has them (or --image names one), then creates the
// namespace's pull secret when the registry needs one, the workspace claim, the
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
	c, user, err := b.preflight(ctx, settings, StartAccess)
	if err != nil {
		return nil, err
	}
	persistent, err := b.persistentCredentials(ctx, c, settings.Namespace, missingKinds(local))
	if err != nil {
		return nil, err
	}
	images, err := b.sessionImages(ctx, c, settings, user, spec, cfg, progress)
	if err != nil {
		return nil, err
	}
	plan, err := buildPlan(planInput{
		ID: id, Namespace: settings.Namespace, Config: cfg, Image: images.Image,
		HostWorkspace: spec.Workspace, AgentArgs: spec.AgentArgs, Yolo: spec.Yolo,
		CreatedAt: now, HostEnv: b.hostEnv(), Local: local, Persistent: persistent,
		Skipped: skipped, NewClaim: true, PullSecret: images.PullSecret, PullSecretExisted: images.PullSecretExisted,
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

// preflight checks the connection, the namespace and the permissions,
// and returns the user name the API server sees ("" when it does not
// say).
func (b *Backend) preflight(ctx context.Context, s Settings, needs []Access) (*Clients, string, error) {
	c, err := b.client()
	if err != nil {
		return nil, "", err
	}
	user, err := b.CheckConnection(ctx)
	if err != nil {
		return nil, "", err
	}
	if err := b.checkNamespace(ctx, s); err != nil {
		return nil, "", err
	}
	if err := b.CheckAccess(ctx, s.Namespace, user, needs); err != nil {
		return nil, "", err
	}
	return c, user, nil
}

// startImages is what a start's pod runs: the image reference the node
// pulls, and the pull secret it pulls with, if the registry needs one.
type startImages struct {
	Image      string
	PullSecret *corev1.Secret
	// PullSecretExisted says the namespace had the pull secret before
	// this start: a failed start leaves it (other sessions use it).
	PullSecretExisted bool
}

// sessionImages gets the session's images into the registry: --image
// as it is, or the workspace image built from the configuration and
// pushed unless the registry has it. Nothing in the cluster changes.
func (b *Backend) sessionImages(ctx context.Context, c *Clients, s Settings, user string, spec backend.SessionSpec, cfg *config.Config, progress io.Writer) (startImages, error) {
	if spec.Image != "" {
		return startImages{Image: spec.Image}, nil
	}
	recipe, err := image.WorkspaceRecipe(cfg)
	if err != nil {
		return startImages{}, fmt.Errorf("failed to prepare the workspace image: %w", err)
	}
	p, err := b.planImages(ctx, c, s, user, []*image.Recipe{recipe}, spec.Rebuild)
	if err != nil {
		return startImages{}, err
	}
	fmt.Fprintf(progress, "Registry %s (from %s)\n", p.Registry.host(), p.Registry.Source)
	if err := b.ensureImages(ctx, p, spec.Rebuild, progress); err != nil {
		return startImages{}, err
	}
	out := startImages{Image: p.Images[0].Pull}
	if p.NeedsPullSecret && p.creds.Token != "" {
		if out.PullSecret, err = PullSecretFor(s.Namespace, p.Registry.pullHost(), p.creds.User, p.creds.Token); err != nil {
			return startImages{}, err
		}
		if out.PullSecretExisted, err = b.pullSecretExists(ctx, c, s.Namespace); err != nil {
			return startImages{}, err
		}
	}
	return out, nil
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
		if obj != Object(plan.PullSecret) || !plan.PullSecretExisted {
			created = append(created, ref{Kind: kindOf(obj), Name: obj.GetName(), Session: plan.ID})
		}
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
