package openshift

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"

	"github.com/paude-dev/paude/pkg/backend"
)

// ref names one object for deletion and messages ("secret/paude-x-gcloud").
type ref struct {
	Kind string // pod, persistentvolumeclaim, secret
	Name string
	// Session is the object's session ID label, when known.
	Session string
}

func (r ref) String() string { return r.Kind + "/" + r.Name }

// deleteRef deletes one object; an object already gone is success. Pods
// go with grace period 0: the session is over, there is nothing to drain.
func (b *Backend) deleteRef(ctx context.Context, c *Clients, ns string, r ref) error {
	core := c.Kube.CoreV1()
	var err error
	switch r.Kind {
	case "pod":
		err = core.Pods(ns).Delete(ctx, r.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	case "persistentvolumeclaim":
		err = core.PersistentVolumeClaims(ns).Delete(ctx, r.Name, metav1.DeleteOptions{})
		if err == nil {
			// The claim lingers (Terminating) until its protection
			// finalizer sees no pod using it; wait, so that a stopped
			// session is really gone when paude says so.
			err = b.waitClaimGone(ctx, c, ns, r.Name)
		}
	case "secret":
		err = core.Secrets(ns).Delete(ctx, r.Name, metav1.DeleteOptions{})
	case "service":
		err = core.Services(ns).Delete(ctx, r.Name, metav1.DeleteOptions{})
	case "deployment":
		// Foreground: its ReplicaSet goes before it, so nothing makes
		// the proxy a new pod while the old one stops.
		err = c.Kube.AppsV1().Deployments(ns).Delete(ctx, r.Name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)})
	case "networkpolicy":
		err = c.Kube.NetworkingV1().NetworkPolicies(ns).Delete(ctx, r.Name, metav1.DeleteOptions{})
	default:
		return fmt.Errorf("cannot delete %s: unknown kind", r)
	}
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	return b.apiError(err, "delete", r.String(), ns)
}

// sessionObjects are the objects labelled with session IDs.
type sessionObjects struct {
	Pods    []corev1.Pod
	Secrets []corev1.Secret
	Claims  []corev1.PersistentVolumeClaim
}

// listSessionObjects lists the objects of one session (or of every
// session when id is "") by label; claims only when withClaims.
func (b *Backend) listSessionObjects(ctx context.Context, c *Clients, ns, id string, withClaims bool) (*sessionObjects, error) {
	selector := backend.AllSessionsSelector
	if id != "" {
		selector = backend.SessionSelector(id)
	}
	opts := metav1.ListOptions{LabelSelector: selector}
	core := c.Kube.CoreV1()
	objs := &sessionObjects{}
	pods, err := core.Pods(ns).List(ctx, opts)
	if err != nil {
		return nil, b.apiError(err, "list", "pods", ns)
	}
	objs.Pods = pods.Items
	secrets, err := core.Secrets(ns).List(ctx, opts)
	if err != nil {
		return nil, b.apiError(err, "list", "secrets", ns)
	}
	objs.Secrets = secrets.Items
	if withClaims {
		claims, err := core.PersistentVolumeClaims(ns).List(ctx, opts)
		if err != nil {
			return nil, b.apiError(err, "list", "persistentvolumeclaims", ns)
		}
		objs.Claims = claims.Items
	}
	return objs, nil
}

// refs lists the objects in deletion order: pods first (so nothing
// still uses the rest), then Secrets and claims.
func (o *sessionObjects) refs() []ref {
	var refs []ref
	add := func(kind string, obj metav1.Object) {
		refs = append(refs, ref{Kind: kind, Name: obj.GetName(), Session: obj.GetLabels()[backend.LabelSessionID]})
	}
	for i := range o.Pods {
		add("pod", &o.Pods[i])
	}
	for i := range o.Secrets {
		add("secret", &o.Secrets[i])
	}
	for i := range o.Claims {
		add("persistentvolumeclaim", &o.Claims[i])
	}
	return refs
}

// deleteRefs deletes objects in order, going on after a failure so as
// much as possible is removed, and returns every failure joined.
func (b *Backend) deleteRefs(ctx context.Context, c *Clients, ns string, refs []ref) error {
	var errs []error
	for _, r := range refs {
		if err := b.deleteRef(ctx, c, ns, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// claimGoneTimeout bounds the wait for a deleted claim to disappear.
const claimGoneTimeout = 30 * time.Second

// waitClaimGone watches a deleted claim until it has left the API. A
// claim still there after claimGoneTimeout is left to finish on its own.
func (b *Backend) waitClaimGone(ctx context.Context, c *Clients, ns, name string) error {
	wctx, cancel := context.WithTimeout(ctx, claimGoneTimeout)
	defer cancel()
	claims := c.Kube.CoreV1().PersistentVolumeClaims(ns)
	for {
		claim, err := claims.Get(wctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				b.progressf("Workspace volume %s is still being deleted", name)
				return nil
			}
			return err
		}
		w, err := claims.Watch(wctx, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("metadata.name", name).String(),
			ResourceVersion: claim.ResourceVersion,
		})
		if err != nil {
			return err
		}
		gone, werr := waitDeleted(wctx, w)
		w.Stop()
		if gone {
			return nil
		}
		if werr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.progressf("Workspace volume %s is still being deleted", name)
			return nil
		}
	}
}
