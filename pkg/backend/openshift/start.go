package openshift

import (
	"context"
	"fmt"
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
// and the permissions it needs, builds and pushes the session's images
// unless the registry has them (or --image names one), then creates the
// namespace's pull secret when the registry needs one, the workspace claim, the
// session's credential Secrets, its env Secret (the environment values
// from paude.json and the host, when there are any) and the pod
// (server-side apply, field manager "paude"), and watches the pod until
// it is Ready. Then it copies the workspace into the pod and gives the
// session its own git repository (the first sync), which the agent waits
// for. On any failure it deletes what this start created before
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
	// A bad allowlist stops the start before anything is asked.
	allowlist, err := b.allowlistOf(cfg, spec.AllowNetwork)
	if err != nil {
		return nil, err
	}
	// The session gets its own repository; a host git too old to fetch
	// the agent's commits back stops the start before anything exists.
	repo, err := backend.HostRepo(ctx, spec.Workspace)
	if err != nil {
		return nil, err
	}
	c, user, err := b.preflight(ctx, settings, accessFor(spec.AllowNetwork))
	if err != nil {
		return nil, err
	}
	persistent, err := b.persistentCredentials(ctx, c, settings.Namespace, missingKinds(local))
	if err != nil {
		return nil, err
	}
	note, err := b.checkProvider(cfg, persistent)
	if err != nil {
		return nil, err
	}
	if note != "" {
		fmt.Fprintln(progress, note)
	}
	iplan, images, err := b.sessionImages(ctx, c, settings, user, spec, cfg)
	if err != nil {
		return nil, err
	}
	if iplan != nil {
		fmt.Fprintf(progress, "Registry %s (from %s)\n", iplan.Registry.host(), iplan.Registry.Source)
		if err := b.ensureImages(ctx, iplan, spec.Rebuild, progress); err != nil {
			return nil, err
		}
	}
	in := planInput{
		ID: id, Namespace: settings.Namespace, Config: cfg, Image: images.Image,
		HostWorkspace: spec.Workspace, AgentArgs: spec.AgentArgs, Yolo: spec.Yolo,
		CreatedAt: now, HostEnv: b.hostEnv(), Local: local, Persistent: persistent,
		Skipped: skipped, NewClaim: true, PullSecret: images.PullSecret, PullSecretExisted: images.PullSecretExisted,
	}
	if allowlist != nil {
		if in.Proxy, in.Network, err = b.planNetwork(ctx, c, settings.Namespace, cfg, allowlist, images); err != nil {
			return nil, err
		}
	}
	plan, err := buildPlan(in)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "Starting session %s in namespace %s\n", id, settings.Namespace)
	firstSync := func(ctx context.Context) error { return b.firstSync(ctx, c, plan, repo, progress) }
	if err := b.launch(ctx, c, plan, cfg, progress, firstSync); err != nil {
		return nil, err
	}
	network := backend.NetworkProxy
	if spec.AllowNetwork {
		network = backend.NetworkOpen
	}
	return &backend.Session{
		ID: id, Status: backend.StatusRunning, Workspace: spec.Workspace,
		CreatedAt: now, BackendType: backend.OpenShift, Network: network,
	}, nil
}

// checkProvider refuses, before anything is created, a Claude Code
// session whose chosen provider cannot work (backend.CheckProvider), and
// returns its note when Claude Code will ask to log in: the login may be
// in the home directory or in the namespace's setup Secrets.
func (b *Backend) checkProvider(cfg *config.Config, persistent map[CredentialKind]Credential) (note string, err error) {
	files, _, err := backend.HomeFiles(b.opts.Home)
	if err != nil {
		return "", err
	}
	for kind := range persistent {
		files = append(files, backend.SavedCredentialFiles(kind)...)
	}
	host := b.hostEnv()
	env := backend.NewAgentEnv(cfg, func(k string) string { return host[k] }, map[string]string{})
	return backend.CheckProvider(cfg, env, files)
}

// accessFor is what a start needs: behind a proxy also the proxy's
// objects and policies.
func accessFor(openNetwork bool) []Access {
	if openNetwork {
		return StartAccess
	}
	return append(slices.Clone(StartAccess), ProxyAccess...)
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
