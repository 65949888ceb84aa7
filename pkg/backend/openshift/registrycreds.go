package openshift

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport"

	"github.com/paude-dev/paude/pkg/podmancli"
)

// registryCredentials is how paude authenticates to the registry: the
// bearer token client-go resolved from the kubeconfig (a token, a token
// file or an exec plugin's), which OpenShift's registry accepts as a
// password, and the files podman uses.
type registryCredentials struct {
	// User is the login name; OpenShift's registry ignores it.
	User string
	// Token is the password; "" when the kubeconfig has none (a client
	// certificate), and then podman uses its own logins.
	Token string
	// Access is the auth file and CA directory podman uses.
	Access podmancli.RegistryAccess
	// RootCAs are the system's CAs plus the cluster's.
	RootCAs *x509.CertPool
}

// bearerToken is the token client-go sends the API server, read by
// running the kubeconfig's authentication (a static token, a token file
// that may rotate, an exec plugin) on a request that goes nowhere.
func bearerToken(cfg *rest.Config) (string, error) {
	tc, err := cfg.TransportConfig()
	if err != nil {
		return "", fmt.Errorf("failed to read the kubeconfig's credentials: %w", err)
	}
	var seen string
	rt, err := transport.HTTPWrappersForConfig(tc, headerCatcher(func(h string) { seen = h }))
	if err != nil {
		return "", fmt.Errorf("failed to read the kubeconfig's credentials: %w", err)
	}
	req, err := http.NewRequest(http.MethodGet, "https://paude.invalid/", nil)
	if err != nil {
		return "", err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return "", fmt.Errorf("failed to read the kubeconfig's credentials: %w", err)
	}
	_ = resp.Body.Close()
	token, ok := strings.CutPrefix(seen, "Bearer ")
	if !ok {
		return "", nil
	}
	return token, nil
}

// headerCatcher is the innermost round tripper of bearerToken: it sees the
// request as the authentication wrappers left it, and sends nothing.
type headerCatcher func(string)

func (h headerCatcher) RoundTrip(req *http.Request) (*http.Response, error) {
	h(req.Header.Get("Authorization"))
	return &http.Response{StatusCode: http.StatusNoContent, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

// registryDir is the private directory of one registry's files under
// dir: an auth file podman login keeps between starts, and the cluster's
// CA for podman's --cert-dir. Both are the user's alone (0700, 0600).
func registryDir(dir, host string) string {
	sum := sha256.Sum256([]byte(host))
	return filepath.Join(dir, "registries", hex.EncodeToString(sum[:8]))
}

// credentialsFor prepares the credentials for a registry: the token, the
// auth file's path, the cluster CA written where podman reads it.
func (b *Backend) credentialsFor(c *Clients, t registryTarget, user string) (*registryCredentials, error) {
	token, err := bearerToken(c.Config)
	if err != nil {
		return nil, err
	}
	dir := registryDir(b.opts.CacheDir, t.host())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", dir, err)
	}
	// MkdirAll leaves an existing directory's mode as it was.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to protect %s: %w", dir, err)
	}
	user = registryUser(user)
	creds := &registryCredentials{User: user, Token: token,
		Access: podmancli.RegistryAccess{AuthFile: filepath.Join(dir, "auth.json"), Insecure: t.Insecure}}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	ca, err := clusterCA(c.Config)
	if err != nil {
		return nil, err
	}
	if len(ca) > 0 {
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("the kubeconfig's certificate-authority holds no PEM certificate: fix the kubeconfig")
		}
		certs := filepath.Join(dir, "certs")
		if err := os.MkdirAll(certs, 0o700); err != nil {
			return nil, fmt.Errorf("failed to create %s: %w", certs, err)
		}
		if err := os.WriteFile(filepath.Join(certs, "cluster-ca.crt"), ca, 0o600); err != nil {
			return nil, fmt.Errorf("failed to write the cluster CA for podman: %w", err)
		}
		creds.Access.CertDir = certs
	}
	creds.RootCAs = pool
	return creds, nil
}

// clusterCA is the kubeconfig's CA certificate, PEM; nil when it names
// none (the API server has a publicly trusted certificate).
func clusterCA(cfg *rest.Config) ([]byte, error) {
	if len(cfg.CAData) > 0 {
		return cfg.CAData, nil
	}
	if cfg.CAFile == "" {
		return nil, nil
	}
	ca, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("failed to read the kubeconfig's certificate-authority: %w", err)
	}
	return ca, nil
}

// httpTransport is how paude's own registry requests go: with the
// credentials' CAs, or without verification when the registry is
// insecure.
func (r *registryCredentials) httpTransport() http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: r.RootCAs, MinVersion: tls.VersionTLS12}
	if r.Access.Insecure {
		tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // --registry-insecure asks for it, and says so
	}
	return tr
}

// registryUser is the user name paude logs in to the registry with. The
// registry goes by the token; the name only has to pass HTTP basic auth,
// which cannot carry a colon, as service accounts' names have
// ("system:serviceaccount:ns:name"): those log in as "serviceaccount", as
// OpenShift's documentation has them do.
func registryUser(user string) string {
	switch {
	case strings.HasPrefix(user, "system:serviceaccount:"):
		return "serviceaccount"
	case user == "" || strings.Contains(user, ":"):
		return "paude"
	}
	return user
}
