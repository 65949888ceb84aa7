package openshift

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
)

// PullSecretName is the namespace's pull secret for paude's images, made
// when the registry refuses anonymous pulls. It belongs to no session:
// every session of the namespace uses it, each start refreshes it with
// the current token, and `stop --all` removes it.
const PullSecretName = "paude-registry"

// AnnotationPullSecret records on a workspace claim the registry host its
// image is pulled from through the pull secret, so a resume refreshes it.
const AnnotationPullSecret = "paude.io/pull-secret-registry"

// PullSecretFor is the pull secret for host with the given login: a
// kubernetes.io/dockerconfigjson Secret, as `kubectl create secret
// docker-registry` makes it. It is a pure function.
func PullSecretFor(namespace, host, user, token string) (*corev1.Secret, error) {
	entry := map[string]string{
		"username": user, "password": token,
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + token)),
	}
	data, err := json.Marshal(map[string]any{"auths": map[string]any{host: entry}})
	if err != nil {
		return nil, fmt.Errorf("failed to write the pull secret: %w", err)
	}
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: PullSecretName, Namespace: namespace,
			Labels: map[string]string{backend.LabelApp: backend.AppName, backend.LabelRole: backend.RoleRegistry},
		},
		Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: data},
	}, nil
}

// pullSecretExists reports whether the namespace has paude's pull secret.
func (b *Backend) pullSecretExists(ctx context.Context, c *Clients, ns string) (bool, error) {
	_, err := c.Kube.CoreV1().Secrets(ns).Get(ctx, PullSecretName, metav1.GetOptions{})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	return false, b.apiError(err, "get", "secret "+PullSecretName, ns)
}

// pullSecretHost is the registry host of a pull secret made by
// PullSecretFor, "" for any other.
func pullSecretHost(s *corev1.Secret) string {
	var cfg struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg) != nil {
		return ""
	}
	for host := range cfg.Auths {
		return host
	}
	return ""
}

// refreshedPullSecret is the namespace's pull secret for host with the
// current token, for a resume, and whether it exists already.
func (b *Backend) refreshedPullSecret(ctx context.Context, c *Clients, ns, host, user string) (*corev1.Secret, bool, error) {
	token, err := bearerToken(c.Config)
	if err != nil {
		return nil, false, err
	}
	if token == "" {
		return nil, false, fmt.Errorf("the session's image is pulled from %s with your token, and your kubeconfig has none now: log in with `oc login` or refresh your kubeconfig", host)
	}
	if user == "" {
		user = "paude"
	}
	secret, err := PullSecretFor(ns, host, user, token)
	if err != nil {
		return nil, false, err
	}
	exists, err := b.pullSecretExists(ctx, c, ns)
	return secret, exists, err
}
