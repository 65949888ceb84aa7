package openshift

import (
	"context"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

// namespaceCreate is the permission the setup command needs to create a
// missing namespace.
var namespaceCreate = []Access{{Verb: "create", Resource: "namespaces"}}

// Setup implements backend.Setupper: it prepares a namespace for sessions: it checks the
// connection, creates the namespace when it is missing and the user may,
// checks every permission the session commands use, and creates the
// persistent credential objects (not tied to a session) from the user's
// home. It prints what it checked and did to out.
func (b *Backend) Setup(ctx context.Context, out io.Writer) error {
	settings, err := b.ResolveSettings()
	if err != nil {
		return err
	}
	c, err := b.client()
	if err != nil {
		return err
	}
	user, err := b.CheckConnection(ctx)
	if err != nil {
		return err
	}
	who := user
	if who == "" {
		who = "(user name not reported by the server)"
	}
	fmt.Fprintf(out, "Connected to %s as %s\n", b.serverHost(), who)
	ns := settings.Namespace
	if err := b.ensureNamespace(ctx, c, settings, user, out); err != nil {
		return err
	}
	if err := b.CheckAccess(ctx, ns, user, SessionAccess); err != nil {
		return err
	}
	fmt.Fprintf(out, "Permissions in namespace %s: ok (%d checked)\n", ns, len(SessionAccess))
	local, skipped, err := ReadCredentials(b.opts.Home)
	if err != nil {
		return err
	}
	for _, line := range skipped {
		fmt.Fprintln(out, line)
	}
	labels := map[string]string{backend.LabelApp: backend.AppName, backend.LabelRole: backend.RoleCredential}
	for _, cred := range local {
		name := PersistentCredentialName(cred.Kind)
		obj, _, err := CredentialObject(cred, ns, name, labels)
		if err != nil {
			return err
		}
		if _, err := ServerSideApply(ctx, c.Kube, obj); err != nil {
			return b.apiError(err, "create", kindOf(obj)+" "+name, ns)
		}
		fmt.Fprintf(out, "Saved %s credentials from %s in %s %s (%d files)\n", cred.Kind, cred.Source, kindOf(obj), name, len(cred.Files))
	}
	if err := b.setupRegistry(ctx, c, settings, user, out); err != nil {
		return err
	}
	if err := b.setupPolicies(ctx, c, settings, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "Namespace %s is ready for paude sessions\n", ns)
	return nil
}

// setupRegistry finds the registry for the sessions' images and, when it
// refuses anonymous pulls, creates the namespace's pull secret. A cluster
// without a registry paude can find is no error here: sessions there
// need --registry or --image, and the message says so.
func (b *Backend) setupRegistry(ctx context.Context, c *Clients, s Settings, user string, out io.Writer) error {
	reg, err := b.findRegistry(ctx, c, s)
	if err != nil {
		fmt.Fprintf(out, "Note: %v\n", err)
		return nil
	}
	fmt.Fprintf(out, "Registry %s (from %s); pods pull from %s\n", reg.host(), reg.Source, reg.pullHost())
	creds, err := b.credentialsFor(c, reg, user)
	if err != nil {
		return err
	}
	anon := *creds
	anon.Token, anon.User = "", ""
	open, err := b.anonymousPull(ctx, &anon, reg.pushRef(s.Namespace, image.WorkspaceName+":latest"), reg)
	if err != nil {
		return err
	}
	if open || creds.Token == "" {
		fmt.Fprintf(out, "The registry lets the nodes pull without a pull secret\n")
		return nil
	}
	secret, err := PullSecretFor(s.Namespace, reg.pullHost(), creds.User, creds.Token)
	if err != nil {
		return err
	}
	if _, err := ServerSideApply(ctx, c.Kube, secret); err != nil {
		return b.apiError(err, "create", "secret "+PullSecretName, s.Namespace)
	}
	fmt.Fprintf(out, "Saved a pull secret for %s in secret %s (your token: each start refreshes it)\n", reg.pullHost(), PullSecretName)
	return nil
}

// ensureNamespace creates the namespace when it is missing and the user
// is allowed to; otherwise it says who can.
func (b *Backend) ensureNamespace(ctx context.Context, c *Clients, s Settings, user string, out io.Writer) error {
	ns := s.Namespace
	_, err := c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case err == nil:
		fmt.Fprintf(out, "Namespace %s (from %s) exists\n", ns, s.NamespaceSource)
		return nil
	case apierrors.IsForbidden(err):
		fmt.Fprintf(out, "Namespace %s (from %s): not allowed to read it, assuming it exists\n", ns, s.NamespaceSource)
		return nil
	case !apierrors.IsNotFound(err):
		return b.apiError(err, "get", "namespace "+ns, "")
	}
	if err := b.CheckAccess(ctx, "", user, namespaceCreate); err != nil {
		return fmt.Errorf("namespace %q does not exist and %w (or, on OpenShift, run `oc new-project %s`)", ns, err, ns)
	}
	nsObj := &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: ns},
	}
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, nsObj, metav1.CreateOptions{FieldManager: FieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return b.apiError(err, "create", "namespace "+ns, "")
	}
	fmt.Fprintf(out, "Created namespace %s\n", ns)
	return nil
}

// setupPolicies applies the NetworkPolicies of the configuration's
// allowlist, so that the namespace confines paude's agents before the
// first start (each start ensures them again).
func (b *Backend) setupPolicies(ctx context.Context, c *Clients, s Settings, out io.Writer) error {
	a, err := b.allowlistOf(b.cfg, false)
	if err != nil {
		return err
	}
	ranges, dnsIPs := b.clusterRanges(ctx, c)
	for _, p := range []Object{AgentPolicyFor(s.Namespace, a.Hash, b.cfg.Network.ClusterDNS), ProxyPolicyFor(s.Namespace, a.Hash, ranges, dnsIPs)} {
		if _, err := ServerSideApply(ctx, c.Kube, p); err != nil {
			return b.apiError(err, "create", "networkpolicy "+p.GetName(), s.Namespace)
		}
	}
	fmt.Fprintf(out, "Network policies %s and %s confine the agents of allowlist %s\n", AgentPolicyName(a.Hash), ProxyPolicyName(a.Hash), strings.Join(a.Domains, ", "))
	return nil
}
