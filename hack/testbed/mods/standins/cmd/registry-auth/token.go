package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// access is one entry of a registry token's "access" claim.
type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// parseScopes reads Docker token scopes ("repository:ns/name:pull,push"),
// each scope parameter possibly holding several separated by spaces. A
// scope it cannot read is skipped: the token then grants nothing for it.
func parseScopes(params []string) []access {
	var out []access
	for _, param := range params {
		for _, scope := range strings.Fields(param) {
			// The name may hold a port-less host or further colons only in
			// exotic registries; split from both ends.
			first := strings.Index(scope, ":")
			last := strings.LastIndex(scope, ":")
			if first < 0 || first == last {
				continue
			}
			a := access{Type: scope[:first], Name: scope[first+1 : last]}
			for _, action := range strings.Split(scope[last+1:], ",") {
				if action != "" && !slices.Contains(a.Actions, action) {
					a.Actions = append(a.Actions, action)
				}
			}
			out = append(out, a)
		}
	}
	return out
}

// verbs maps registry actions to the imagestreams/layers verbs OpenShift's
// registry checks; any other action (delete, *) is never granted.
var verbs = map[string]string{"pull": "get", "push": "update"}

// grant returns the part of the requested access that id may have: only
// repositories named namespace/name, only pull and push, each as the
// API server's RBAC decides.
func grant(ctx context.Context, r reviewer, id identity, requested []access) ([]access, error) {
	granted := []access{}
	for _, req := range requested {
		ns, name, ok := strings.Cut(req.Name, "/")
		if req.Type != "repository" || !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			continue
		}
		allowed := access{Type: req.Type, Name: req.Name, Actions: []string{}}
		for _, action := range req.Actions {
			verb, known := verbs[action]
			if !known {
				continue
			}
			ok, err := r.Allowed(ctx, id, ns, name, verb)
			if err != nil {
				return nil, err
			}
			if ok {
				allowed.Actions = append(allowed.Actions, action)
			}
		}
		granted = append(granted, allowed)
	}
	return granted, nil
}

// signer issues registry JWTs.
type signer struct {
	key      *ecdsa.PrivateKey
	chain    []string // base64 DER certificates for the x5c header
	issuer   string
	audience string
	ttl      time.Duration
}

// loadSigner reads the signing key and its certificate.
func loadSigner(keyFile, certFile, issuer, audience string, ttl time.Duration) (*signer, error) {
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("failed to read the signing key: %w", err)
	}
	key, err := jwt.ParseECPrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the signing key %s (want an EC key in PEM): %w", keyFile, err)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("failed to read the signing certificate: %w", err)
	}
	s := &signer{key: key, issuer: issuer, audience: audience, ttl: ttl}
	for block, rest := pem.Decode(certPEM); block != nil; block, rest = pem.Decode(rest) {
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("failed to parse a certificate in %s: %w", certFile, err)
		}
		s.chain = append(s.chain, base64.StdEncoding.EncodeToString(cert.Raw))
	}
	if len(s.chain) == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate: give the signing key's certificate", certFile)
	}
	return s, nil
}

// sign returns a registry token for subject with the granted access. The
// registry (distribution 2.8) finds the verifying key through the x5c
// chain, which must lead to a certificate in its rootcertbundle, and reads
// "aud" as a single string.
func (s *signer) sign(subject string, granted []access, now time.Time) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss":    s.issuer,
		"sub":    subject,
		"aud":    s.audience,
		"iat":    now.Unix(),
		"nbf":    now.Add(-time.Minute).Unix(),
		"exp":    now.Add(s.ttl).Unix(),
		"jti":    hex.EncodeToString(jti),
		"access": granted,
	})
	tok.Header["x5c"] = s.chain
	return tok.SignedString(s.key)
}

// tokenHandler serves the token endpoint.
type tokenHandler struct {
	reviewer reviewer
	signer   *signer
	service  string
}

// password returns the Kubernetes token a client offered: the password of
// HTTP basic auth (GET), or of an OAuth2 password grant (POST).
func password(r *http.Request) (user, pass string, ok bool) {
	if r.Method == http.MethodPost {
		if r.PostForm.Get("grant_type") != "password" {
			return "", "", false
		}
		return r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("password") != ""
	}
	user, pass, ok = r.BasicAuth()
	return user, pass, ok && pass != ""
}

func (h *tokenHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "use GET with basic auth or POST with a password grant", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	if svc := r.Form.Get("service"); svc != "" && svc != h.service {
		h.deny(w, r, "", http.StatusBadRequest, fmt.Sprintf("unknown service %q: this endpoint serves %q", svc, h.service))
		return
	}
	user, token, ok := password(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="paude-testbed registry: any user name, a Kubernetes token as the password"`)
		h.deny(w, r, user, http.StatusUnauthorized, "credentials required: a Kubernetes bearer token as the password")
		return
	}
	id, ok, err := h.reviewer.Authenticate(r.Context(), token)
	if err != nil {
		h.deny(w, r, user, http.StatusServiceUnavailable, err.Error())
		return
	}
	if !ok {
		h.deny(w, r, user, http.StatusUnauthorized, "the Kubernetes token was not accepted (wrong, expired or revoked)")
		return
	}
	requested := parseScopes(r.Form["scope"])
	granted, err := grant(r.Context(), h.reviewer, id, requested)
	if err != nil {
		h.deny(w, r, id.Username, http.StatusServiceUnavailable, err.Error())
		return
	}
	now := time.Now()
	signed, err := h.signer.sign(id.Username, granted, now)
	if err != nil {
		h.deny(w, r, id.Username, http.StatusInternalServerError, "failed to sign the token: "+err.Error())
		return
	}
	log.Printf("%s %s user=%q identity=%q requested=%s granted=%s", r.Method, r.RemoteAddr, user, id.Username, describe(requested), describe(granted))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token":        signed,
		"access_token": signed,
		"expires_in":   int(h.signer.ttl.Seconds()),
		"issued_at":    now.UTC().Format(time.RFC3339),
	})
}

// deny logs a refusal and answers with the registry API's error shape.
func (h *tokenHandler) deny(w http.ResponseWriter, r *http.Request, who string, status int, msg string) {
	log.Printf("%s %s user=%q status=%d: %s", r.Method, r.RemoteAddr, who, status, msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]string{{"code": "UNAUTHORIZED", "message": msg}},
	})
}

// describe renders access entries for the log.
func describe(entries []access) string {
	parts := make([]string, 0, len(entries))
	for _, a := range entries {
		parts = append(parts, a.Type+":"+a.Name+":"+strings.Join(a.Actions, ","))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
