package openshift

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Access is one permission paude needs: a verb on a resource (and
// optional subresource) of an API group ("" = the core group).
type Access struct {
	Verb        string
	Group       string
	Resource    string
	Subresource string
}

// target is the resource as it reads in messages ("pods/exec",
// "deployments.apps").
func (a Access) target() string {
	r := a.Resource
	if a.Group != "" {
		r += "." + a.Group
	}
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	return r
}

// StartAccess is everything a start (or a resume) does; it is checked
// before anything is created so a start never fails half-way on
// permissions. Server-side apply is a PATCH that the API server also
// authorizes as "create" when the object is new, so both are needed.
// The start also reads the setup command's Secrets, watches its pod until
// Ready, deletes what it created when it fails, and then attaches.
var StartAccess = []Access{
	{Verb: "create", Resource: "persistentvolumeclaims"},
	{Verb: "create", Resource: "secrets"},
	{Verb: "create", Resource: "pods"},
	{Verb: "create", Resource: "pods", Subresource: "exec"},
	{Verb: "patch", Resource: "persistentvolumeclaims"},
	{Verb: "patch", Resource: "secrets"},
	{Verb: "patch", Resource: "pods"},
	{Verb: "get", Resource: "secrets"},
	{Verb: "get", Resource: "pods"},
	{Verb: "watch", Resource: "pods"},
	{Verb: "delete", Resource: "pods"},
	{Verb: "delete", Resource: "secrets"},
	{Verb: "delete", Resource: "persistentvolumeclaims"},
}

// ProxyAccess is what a start behind a proxy does besides StartAccess:
// it applies the allowlist's proxy (a Deployment and a Service) and its
// NetworkPolicies, waits for the proxy's pod, and removes them when it
// made them and fails.
var ProxyAccess = []Access{
	{Verb: "create", Group: "apps", Resource: "deployments"},
	{Verb: "patch", Group: "apps", Resource: "deployments"},
	{Verb: "get", Group: "apps", Resource: "deployments"},
	{Verb: "delete", Group: "apps", Resource: "deployments"},
	{Verb: "create", Resource: "services"},
	{Verb: "patch", Resource: "services"},
	{Verb: "delete", Resource: "services"},
	{Verb: "create", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "patch", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "delete", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "list", Resource: "pods"},
}

// SessionAccess is everything the session commands use in the session
// namespace; the setup command checks all of it.
var SessionAccess = []Access{
	{Verb: "create", Resource: "pods"},
	{Verb: "get", Resource: "pods"},
	{Verb: "list", Resource: "pods"},
	{Verb: "watch", Resource: "pods"},
	{Verb: "patch", Resource: "pods"},
	{Verb: "delete", Resource: "pods"},
	{Verb: "create", Resource: "pods", Subresource: "exec"},
	{Verb: "create", Resource: "persistentvolumeclaims"},
	{Verb: "get", Resource: "persistentvolumeclaims"},
	{Verb: "list", Resource: "persistentvolumeclaims"},
	{Verb: "patch", Resource: "persistentvolumeclaims"},
	{Verb: "delete", Resource: "persistentvolumeclaims"},
	{Verb: "create", Resource: "secrets"},
	{Verb: "get", Resource: "secrets"},
	{Verb: "list", Resource: "secrets"},
	{Verb: "patch", Resource: "secrets"},
	{Verb: "delete", Resource: "secrets"},
	{Verb: "create", Group: "apps", Resource: "deployments"},
	{Verb: "get", Group: "apps", Resource: "deployments"},
	{Verb: "list", Group: "apps", Resource: "deployments"},
	{Verb: "patch", Group: "apps", Resource: "deployments"},
	{Verb: "delete", Group: "apps", Resource: "deployments"},
	{Verb: "create", Resource: "services"},
	{Verb: "list", Resource: "services"},
	{Verb: "patch", Resource: "services"},
	{Verb: "delete", Resource: "services"},
	{Verb: "create", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "list", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "patch", Group: "networking.k8s.io", Resource: "networkpolicies"},
	{Verb: "delete", Group: "networking.k8s.io", Resource: "networkpolicies"},
}

// CheckAccess asks the API server, with one SelfSubjectAccessReview per
// entry (sent concurrently), whether the current user may do each thing
// in namespace. The first denied entry, in list order, becomes a
// *ForbiddenError naming the verb and resource; user names the user in
// that message ("" = "you").
func (b *Backend) CheckAccess(ctx context.Context, namespace, user string, needs []Access) error {
	c, err := b.client()
	if err != nil {
		return err
	}
	results := make([]error, len(needs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, need := range needs {
		g.Go(func() error {
			results[i] = b.checkOne(gctx, c, namespace, user, need)
			var forbidden *ForbiddenError
			if results[i] != nil && !errors.As(results[i], &forbidden) {
				return results[i] // a transport error: stop asking
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, err := range results {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkOne sends one SelfSubjectAccessReview.
func (b *Backend) checkOne(ctx context.Context, c *Clients, namespace, user string, need Access) error {
	review := &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace:   namespace,
				Verb:        need.Verb,
				Group:       need.Group,
				Resource:    need.Resource,
				Subresource: need.Subresource,
			},
		},
	}
	denied := &ForbiddenError{User: user, Verb: need.Verb, Resource: need.target(), Namespace: namespace}
	got, err := c.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		err = b.apiError(err, "check", "permissions", namespace)
		var forbidden *ForbiddenError
		if errors.As(err, &forbidden) {
			// Not even allowed to ask: report what paude wanted to do.
			return denied
		}
		return err
	}
	if !got.Status.Allowed {
		denied.Message = got.Status.Reason
		return denied
	}
	return nil
}
