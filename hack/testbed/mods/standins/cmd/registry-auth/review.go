package main

import (
	"context"
	"fmt"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// identity is who a Kubernetes token belongs to, as the API server says.
type identity struct {
	Username string
	UID      string
	Groups   []string
	Extra    map[string]authnv1.ExtraValue
}

// reviewer asks the API server who a token is and what it may do; the
// handler depends on this seam only.
type reviewer interface {
	// Authenticate returns the token's identity, or ok=false when the API
	// server does not accept the token (wrong, expired, revoked).
	Authenticate(ctx context.Context, token string) (id identity, ok bool, err error)
	// Allowed reports whether id may perform verb on the image stream
	// name's layers in namespace ns.
	Allowed(ctx context.Context, id identity, ns, name, verb string) (bool, error)
}

// apiReviewer is the reviewer backed by TokenReview and SubjectAccessReview.
type apiReviewer struct {
	client kubernetes.Interface
}

func (r *apiReviewer) Authenticate(ctx context.Context, token string) (identity, bool, error) {
	review, err := r.client.AuthenticationV1().TokenReviews().Create(ctx,
		&authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return identity{}, false, fmt.Errorf("failed to create a TokenReview: %w", err)
	}
	if !review.Status.Authenticated {
		return identity{}, false, nil
	}
	u := review.Status.User
	return identity{Username: u.Username, UID: u.UID, Groups: u.Groups, Extra: u.Extra}, true, nil
}

func (r *apiReviewer) Allowed(ctx context.Context, id identity, ns, name, verb string) (bool, error) {
	extra := make(map[string]authzv1.ExtraValue, len(id.Extra))
	for k, v := range id.Extra {
		extra[k] = authzv1.ExtraValue(v)
	}
	review, err := r.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{
		Spec: authzv1.SubjectAccessReviewSpec{
			User: id.Username, UID: id.UID, Groups: id.Groups, Extra: extra,
			ResourceAttributes: &authzv1.ResourceAttributes{
				Namespace: ns, Verb: verb, Group: "image.openshift.io",
				Resource: "imagestreams", Subresource: "layers", Name: name,
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("failed to create a SubjectAccessReview: %w", err)
	}
	return review.Status.Allowed, nil
}
