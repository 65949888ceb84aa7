package openshift

import (
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// sessionPlan is every object one start (or resume) applies, in order.
type sessionPlan struct {
	ID        string
	Namespace string
	// Claim is nil when resuming on a kept workspace claim.
	Claim *corev1.PersistentVolumeClaim
	// Credentials are the session's own credential Secrets.
	Credentials []Object
	// Env is the Secret with the environment values from paude.json and
	// the host, nil when there are none.
	Env *corev1.Secret
	// PullSecret is the namespace's pull secret, refreshed with the
	// current token; nil when the registry needs none.
	PullSecret *corev1.Secret
	// PullSecretExisted keeps a failed start from removing a pull
	// secret other sessions use.
	PullSecretExisted bool
	// Proxy is the allowlist's proxy and policies, nil with open network.
	Proxy *proxyPlan
	Pod   *corev1.Pod
	// Notes are lines for the user: skipped or persistent credentials.
	Notes []string
}

// planInput is what a plan is built from.
type planInput struct {
	ID            string
	Namespace     string
	Config        *config.Config
	Image         string
	HostWorkspace string
	AgentArgs     []string
	Yolo          bool
	CreatedAt     time.Time
	HostEnv       map[string]string
	// Local are credentials read from the user's home; Persistent are
	// the setup command's Secrets used for kinds missing locally.
	Local      []LocalCredential
	Persistent map[CredentialKind]Credential
	Skipped    []string
	// NewClaim asks for a workspace claim (false when resuming).
	NewClaim bool
	// PullSecret, when set, is applied first and named by the pod.
	PullSecret        *corev1.Secret
	PullSecretExisted bool
	// Proxy and Network put the agent behind its allowlist's proxy;
	// nil for open network.
	Proxy   *proxyPlan
	Network *AgentNetwork
}

// objects lists every object of the plan in apply order.
func (p *sessionPlan) objects() []Object {
	var objs []Object
	if p.PullSecret != nil {
		objs = append(objs, p.PullSecret)
	}
	if p.Proxy != nil {
		objs = append(objs, p.Proxy.objects()...)
	}
	return append(objs, p.sessionObjects()...)
}

// sessionObjects lists the session's own objects in apply order.
func (p *sessionPlan) sessionObjects() []Object {
	var objs []Object
	if p.Claim != nil {
		objs = append(objs, p.Claim)
	}
	objs = append(objs, p.Credentials...)
	if p.Env != nil {
		objs = append(objs, p.Env)
	}
	return append(objs, p.Pod)
}

// buildPlan turns the input into manifests; it calls no API.
func buildPlan(in planInput) (*sessionPlan, error) {
	plan := &sessionPlan{ID: in.ID, Namespace: in.Namespace, PullSecret: in.PullSecret, PullSecretExisted: in.PullSecretExisted,
		Proxy: in.Proxy}
	pullSecret, pullHost := "", ""
	if in.PullSecret != nil {
		pullSecret = in.PullSecret.Name
		pullHost = pullSecretHost(in.PullSecret)
	}
	var mounts []Credential
	present := map[CredentialKind]bool{}
	for _, local := range in.Local {
		obj, mount, err := CredentialObject(local, in.Namespace, SessionCredentialName(in.ID, local.Kind), backend.SessionLabels(in.ID, backend.RoleCredential))
		if err != nil {
			return nil, err
		}
		plan.Credentials = append(plan.Credentials, obj)
		mounts = append(mounts, mount)
		present[local.Kind] = true
	}
	plan.Notes = append(plan.Notes, in.Skipped...)
	for _, kind := range CredentialKinds {
		if cred, ok := in.Persistent[kind]; ok && !present[kind] {
			mounts = append(mounts, cred)
			plan.Notes = append(plan.Notes, fmt.Sprintf("Using %s credentials from the namespace's %s (saved by the setup command)", kind, cred.Name))
		}
	}
	if in.NewClaim {
		claim, err := WorkspaceClaimFor(WorkspaceClaimParams{
			ID: in.ID, Namespace: in.Namespace, Volume: in.Config.Backend.Workspace,
			HostWorkspace: in.HostWorkspace, Image: in.Image, AgentArgs: in.AgentArgs,
			Yolo: in.Yolo, CreatedAt: in.CreatedAt, PullSecretHost: pullHost, OpenNetwork: in.Network == nil,
			Sync: in.Config.Sync,
		})
		if err != nil {
			return nil, err
		}
		plan.Claim = claim
	}
	params := PodParams{
		ID: in.ID, Namespace: in.Namespace, Image: in.Image, HostWorkspace: in.HostWorkspace,
		AgentArgs: in.AgentArgs, Yolo: in.Yolo, CreatedAt: in.CreatedAt, Config: in.Config,
		HostEnv: maps.Clone(in.HostEnv), Credentials: mounts, PullSecret: pullSecret,
		Network: in.Network,
	}
	env, err := EnvSecretFor(params)
	if err != nil {
		return nil, err
	}
	plan.Env = env
	pod, err := PodFor(params)
	if err != nil {
		return nil, err
	}
	plan.Pod = pod
	return plan, nil
}

// hostEnv reads the pass-through variables from the host.
func (b *Backend) hostEnv() map[string]string {
	env := map[string]string{}
	for _, k := range backend.PassthroughEnv {
		if v := b.opts.Getenv(k); v != "" {
			env[k] = v
		}
	}
	return env
}

// persistentCredentials finds the setup command's Secrets for the kinds that
// were not found locally. Missing Secrets are simply not used.
func (b *Backend) persistentCredentials(ctx context.Context, c *Clients, ns string, missing []CredentialKind) (map[CredentialKind]Credential, error) {
	found := map[CredentialKind]Credential{}
	for _, kind := range missing {
		name := PersistentCredentialName(kind)
		secret, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, b.apiError(err, "get", "secret "+name, ns)
		}
		cred, err := CredentialFromObject(secret)
		if err != nil {
			return nil, fmt.Errorf("%w: recreate it with %s", err, b.hint("setup"))
		}
		cred.Kind = kind
		found[kind] = cred
	}
	return found, nil
}
