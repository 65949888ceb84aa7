package kubetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UserAuth is the registry credential of the testbed's non-admin user:
// its name and its bearer token. It pushes or pulls only where RBAC lets
// the user (see GrantUser).
func (c *Cluster) UserAuth() RegistryAuth {
	return RegistryAuth{Username: c.User, Password: c.UserToken}
}

// TLSConfig trusts the testbed CA, which signed the registry's, the token
// endpoint's and the fake internet's certificates.
func (c *Cluster) TLSConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(c.CA)
	if err != nil {
		return nil, fmt.Errorf("failed to read the testbed CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate: bring the testbed up again", c.CA)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// RegistryTransport is an HTTP transport that trusts the testbed CA and
// uses no proxy.
func (c *Cluster) RegistryTransport() (http.RoundTripper, error) {
	cfg, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	// The testbed is reached directly: a proxy from the environment is
	// outside the namespace and could not reach it anyway.
	tr.Proxy = nil
	return tr, nil
}

// PushTarget is the testbed registry as a client outside the cluster
// pushes to it: the default route's host on port 443, with auth.
func (c *Cluster) PushTarget(auth RegistryAuth) (Registry, error) {
	tr, err := c.RegistryTransport()
	if err != nil {
		return Registry{}, err
	}
	return Registry{Host: c.RegistryRoute, Auth: auth, Transport: tr}, nil
}

// PushImage pushes img as ns/name:tag through the default route with auth
// and returns the reference pods use (c.Registry, the in-cluster name) and
// the manifest digest.
func (c *Cluster) PushImage(ctx context.Context, auth RegistryAuth, ns, name, tag string, img Image) (ref, digest string, err error) {
	target, err := c.PushTarget(auth)
	if err != nil {
		return "", "", err
	}
	if _, digest, err = PushImage(ctx, target, ns+"/"+name, tag, img); err != nil {
		return "", "", err
	}
	return c.Registry + "/" + ns + "/" + name + ":" + tag, digest, nil
}

// GrantUser binds the testbed user to clusterRole in namespace ns (edit
// lets it push and pull there; view only pull).
func (c *Cluster) GrantUser(t testing.TB, ns, clusterRole string) {
	t.Helper()
	c.Bind(t, ns, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: c.User}, clusterRole)
}

// Bind creates a RoleBinding in ns from subject to clusterRole.
func (c *Cluster) Bind(t testing.TB, ns string, subject rbacv1.Subject, clusterRole string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "kubetest-"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   []rbacv1.Subject{subject},
	}
	if _, err := c.Client.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatalf("failed to bind %s %s to %s in %s: %v", subject.Kind, subject.Name, clusterRole, ns, err)
	}
}

// ServiceAccountToken makes ServiceAccount ns/name (unless it exists),
// binds it to each of clusterRoles in ns (system:image-puller to pull,
// system:image-pusher to push), and returns a token for it from the
// TokenRequest API, valid for an hour.
func (c *Cluster) ServiceAccountToken(t testing.TB, ns, name string, clusterRoles ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("failed to create ServiceAccount %s/%s: %v", ns, name, err)
	}
	for _, role := range clusterRoles {
		c.Bind(t, ns, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}, role)
	}
	hour := int64(3600)
	tr, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &hour}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("failed to request a token for ServiceAccount %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

// PullSecret creates a kubernetes.io/dockerconfigjson Secret ns/name that
// holds auth for both of the registry's names (c.Registry and
// c.RegistryRoute), for a pod's imagePullSecrets.
func (c *Cluster) PullSecret(t testing.TB, ns, name string, auth RegistryAuth) {
	t.Helper()
	entry := map[string]string{
		"username": auth.Username,
		"password": auth.Password,
		"auth":     base64.StdEncoding.EncodeToString([]byte(auth.Username + ":" + auth.Password)),
	}
	cfg, err := json.Marshal(map[string]any{"auths": map[string]any{c.Registry: entry, c.RegistryRoute: entry}})
	if err != nil {
		t.Fatalf("failed to encode the docker config: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: cfg},
	}
	if _, err := c.Client.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatalf("failed to create pull secret %s/%s: %v", ns, name, err)
	}
}
