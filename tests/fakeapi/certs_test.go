package fakeapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCAServesRealNames serves the fake over TLS on loopback with
// certificates the CA issued, and dials it as a client that trusts only
// the CA and asks for a real host name, as Claude Code does.
func TestCAServesRealNames(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := ca.WriteFiles(dir, AnthropicAPIHost, VertexHost("us-east5"))
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatalf("the written pair does not load: %v", err)
	}
	caPEM, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("the written CA file holds no certificate")
	}
	if info, err := os.Stat(files.Key); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v (%v), want 0600", info.Mode().Perm(), err)
	}

	tests := []struct {
		name    string
		server  *tls.Config
		sni     string
		wantErr string // "" for a good handshake
	}{
		{name: "issued pair, listed name", server: &tls.Config{Certificates: []tls.Certificate{fixed}}, sni: AnthropicAPIHost},
		{name: "issued pair, second listed name", server: &tls.Config{Certificates: []tls.Certificate{fixed}}, sni: VertexHost("us-east5")},
		{name: "issued pair, unlisted name", server: &tls.Config{Certificates: []tls.Certificate{fixed}}, sni: GoogleTokenHost, wantErr: "certificate is valid for"},
		{name: "per-name certificates", server: ca.TLSConfig(), sni: GoogleTokenHost},
		{name: "per-name certificates, any name", server: ca.TLSConfig(), sni: "downloads.claude.ai"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveLoopbackTLS(t, tt.server)
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
				// The real name, the loopback address: /etc/hosts in one line.
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, addr)
				},
			}}
			resp, err := client.Get("https://" + tt.sni + "/api/hello")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), "host="+tt.sni) {
				t.Errorf("answer %q does not come from the fake for %s", body, tt.sni)
			}
		})
	}
}

// TestCAIsNotTrustedElsewhere is the control: a client with the system
// roots alone refuses what the CA issued.
func TestCAIsNotTrustedElsewhere(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	addr := serveLoopbackTLS(t, ca.TLSConfig())
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: AnthropicAPIHost, MinVersion: tls.VersionTLS12})
	if err == nil {
		conn.Close()
		t.Fatal("a client without the test CA accepted its certificate")
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("error %v, want an unknown authority", err)
	}
}

func TestIssueNeedsAName(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ca.Issue(); err == nil {
		t.Fatal("Issue() with no name succeeded")
	}
}

// serveLoopbackTLS answers "host=<Host>" over TLS on a loopback port for
// the test's lifetime.
func serveLoopbackTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MinVersion = tls.VersionTLS12
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, TLSConfig: cfg, ErrorLog: log.New(io.Discard, "", 0),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "host="+r.Host) })}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// TestCredentialFiles checks the files a test mounts for Claude Code
// hold what it reads.
func TestCredentialFiles(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want map[string]any // top-level (or dotted) keys and values
	}{
		{name: "adc", data: ADCFile("r-token"), want: map[string]any{"type": "authorized_user", "refresh_token": "r-token"}},
		{name: "claude login", data: ClaudeCredentialsFile("r-token"), want: map[string]any{"claudeAiOauth.refreshToken": "r-token", "claudeAiOauth.expiresAt": float64(1000)}},
		{name: "onboarded with a key", data: OnboardedState("/w", "sk-ant-0123456789abcdefghijKLMNOPQRST"),
			want: map[string]any{"hasCompletedOnboarding": true, "projects./w.hasTrustDialogAccepted": true, "customApiKeyResponses.approved": []any{"abcdefghijKLMNOPQRST"}}},
		{name: "onboarded without a key", data: OnboardedState("/w", ""), want: map[string]any{"hasCompletedOnboarding": true, "customApiKeyResponses": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(tt.data, &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, tt.data)
			}
			for key, want := range tt.want {
				got := lookup(doc, key)
				if gotJSON, wantJSON := mustJSON(t, got), mustJSON(t, want); gotJSON != wantJSON {
					t.Errorf("%s = %s, want %s", key, gotJSON, wantJSON)
				}
			}
		})
	}
}

// lookup follows a dotted path; "/w" style segments are map keys too.
func lookup(doc map[string]any, path string) any {
	var cur any = doc
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
