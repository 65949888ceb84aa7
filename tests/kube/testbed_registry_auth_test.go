//go:build integration

package kube_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// registryClient is an HTTP client that trusts the testbed CA.
func registryClient(t *testing.T, c *kubetest.Cluster) *http.Client {
	t.Helper()
	tr, err := c.RegistryTransport()
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

var challengeParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// registryChallenge asks the registry's route for /v2/ without a token and
// returns the Bearer challenge's realm and service.
func registryChallenge(t *testing.T, c *kubetest.Cluster, client *http.Client) (realm, service string) {
	t.Helper()
	resp, err := client.Get("https://" + c.RegistryRoute + "/v2/")
	if err != nil {
		t.Fatalf("failed to reach the registry's route: %v", err)
	}
	resp.Body.Close()
	challenge := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer ") {
		t.Fatalf("GET /v2/ without a token: HTTP %d, challenge %q; want 401 and a Bearer challenge", resp.StatusCode, challenge)
	}
	for _, m := range challengeParam.FindAllStringSubmatch(challenge, -1) {
		switch m[1] {
		case "realm":
			realm = m[2]
		case "service":
			service = m[2]
		}
	}
	if realm == "" || service == "" {
		t.Fatalf("challenge %q lacks realm or service", challenge)
	}
	return realm, service
}

// tokenReply is what the token endpoint answers a request for scope with
// the given basic credentials (none when user and password are empty).
type tokenReply struct {
	status int
	token  string
	access []tokenAccess
}

type tokenAccess struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

func requestToken(t *testing.T, client *http.Client, realm, service, scope, user, password string) tokenReply {
	t.Helper()
	q := url.Values{"service": {service}}
	if scope != "" {
		q.Set("scope", scope)
	}
	req, err := http.NewRequest(http.MethodGet, realm+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" || password != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("failed to reach the token endpoint %s: %v", realm, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	reply := tokenReply{status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		return reply
	}
	var out struct{ Token string }
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		t.Fatalf("token endpoint answered 200 without a token: %s", body)
	}
	reply.token = out.Token
	var claims struct{ Access []tokenAccess }
	parts := strings.Split(out.Token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if len(parts) != 3 || err != nil || json.Unmarshal(payload, &claims) != nil {
		t.Fatalf("the token is not a JWT: %q", out.Token)
	}
	reply.access = claims.Access
	return reply
}

// rewriteToken re-signs a real ServiceAccount token with the API server's
// signing key after changing its times: with validFor > 0 it stays valid
// (the control: the rewriting itself is sound), with a negative one it
// expired that long ago.
func rewriteToken(t *testing.T, c *kubetest.Cluster, token string, validFor time.Duration) string {
	t.Helper()
	keyPEM, err := os.ReadFile(filepath.Join(c.PKI, "sa.key"))
	if err != nil {
		t.Fatalf("failed to read the service-account signing key: %v", err)
	}
	key, err := jwt.ParseECPrivateKeyFromPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	parsed, _, err := jwt.NewParser().ParseUnverified(token, claims)
	if err != nil {
		t.Fatalf("a TokenRequest token is not a JWT: %v", err)
	}
	now := time.Now()
	if validFor < 0 {
		now = now.Add(validFor - time.Hour)
	}
	claims["iat"], claims["nbf"] = now.Unix(), now.Unix()
	claims["exp"] = now.Add(time.Hour).Unix()
	if validFor < 0 {
		claims["exp"] = time.Now().Add(validFor).Unix()
	}
	out := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	out.Header["kid"] = parsed.Header["kid"]
	signed, err := out.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// foreignRegistryToken is a registry JWT that looks right but is signed by
// a key the registry does not trust.
func foreignRegistryToken(t *testing.T, service string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "impostor"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": "paude-testbed-registry-auth", "sub": "impostor", "aud": service,
		"exp": time.Now().Add(time.Hour).Unix(), "nbf": time.Now().Add(-time.Minute).Unix(),
		"iat": time.Now().Unix(), "jti": "x", "access": []any{},
	})
	tok.Header["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
	signed, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// TestRegistryTokenAuth proves the registry's token endpoint behaves like
// OpenShift's: a Kubernetes token as the password (a user's or a
// ServiceAccount's) buys a registry token whose access RBAC decides
// (imagestreams/layers: get to pull, update to push); wrong, missing,
// expired and revoked tokens get 401; and the registry accepts only tokens
// signed by the key it trusts.
func TestRegistryTokenAuth(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	client := registryClient(t, c)
	realm, service := registryChallenge(t, c, client)
	scope := fmt.Sprintf("repository:%s/app:pull,push", ns)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	puller := c.ServiceAccountToken(t, ns, "puller", "system:image-puller")
	pusher := c.ServiceAccountToken(t, ns, "pusher", "system:image-pusher")
	tests := []struct {
		name       string
		password   string
		wantStatus int
		wantAccess []string
	}{
		{"user token without rights", c.UserToken, http.StatusOK, []string{}},
		{"service account token, image-puller", puller, http.StatusOK, []string{"pull"}},
		{"service account token, image-pusher", pusher, http.StatusOK, []string{"pull", "push"}},
		{"rewritten service account token, still valid", rewriteToken(t, c, pusher, time.Hour), http.StatusOK, []string{"pull", "push"}},
		{"expired service account token", rewriteToken(t, c, pusher, -time.Minute), http.StatusUnauthorized, nil},
		{"wrong token", "not-a-kubernetes-token", http.StatusUnauthorized, nil},
		{"no password", "", http.StatusUnauthorized, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := requestToken(t, client, realm, service, scope, "someone", tt.password)
			if got.status != tt.wantStatus {
				t.Fatalf("token endpoint answered HTTP %d, want %d", got.status, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				return
			}
			if len(got.access) != 1 || got.access[0].Name != ns+"/app" || !slices.Equal(got.access[0].Actions, tt.wantAccess) {
				t.Errorf("granted %+v, want %s/app with %v", got.access, ns, tt.wantAccess)
			}
		})
	}

	t.Run("user token with edit rights", func(t *testing.T) {
		c.GrantUser(t, ns, "edit")
		got := requestToken(t, client, realm, service, scope, c.User, c.UserToken)
		if got.status != http.StatusOK || len(got.access) != 1 || !slices.Equal(got.access[0].Actions, []string{"pull", "push"}) {
			t.Fatalf("HTTP %d, granted %+v; want 200 with pull and push", got.status, got.access)
		}
	})

	t.Run("revoked service account token", func(t *testing.T) {
		secret, err := c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "binding"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "pusher", &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{
			BoundObjectRef: &authnv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1", Name: secret.Name, UID: secret.UID},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := requestToken(t, client, realm, service, scope, "x", tr.Status.Token); got.status != http.StatusOK {
			t.Fatalf("a token bound to an existing Secret: HTTP %d, want 200", got.status)
		}
		if err := c.Client.CoreV1().Secrets(ns).Delete(ctx, secret.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(convergeTimeout)
		for requestToken(t, client, realm, service, scope, "x", tr.Status.Token).status != http.StatusUnauthorized {
			if time.Now().After(deadline) {
				t.Fatalf("the token of a deleted Secret is still accepted after %s", convergeTimeout)
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	t.Run("the registry trusts only its own signer", func(t *testing.T) {
		ours := requestToken(t, client, realm, service, "", "x", pusher)
		for _, tt := range []struct {
			name, token string
			want        int
		}{
			{"issued by the token endpoint", ours.token, http.StatusOK},
			{"signed by another key", foreignRegistryToken(t, service), http.StatusUnauthorized},
		} {
			req, _ := http.NewRequest(http.MethodGet, "https://"+c.RegistryRoute+"/v2/", nil)
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%s: GET /v2/ answered HTTP %d, want %d", tt.name, resp.StatusCode, tt.want)
			}
		}
	})
}
