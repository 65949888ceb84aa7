package kubetest

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FakeInternet is the testbed's stand-in for the outside world: a host in
// a network namespace of its own (hack/testbed/mods/standins/cmd/fakehost)
// that the cluster's DNS hands out for the names below. Pods reach it
// unless a NetworkPolicy stops them; its HTTP (:80) and HTTPS (:443, a
// certificate from the testbed CA) answer "fakehost: host=H addr=A path=P";
// port 22 sends the banner "fakehost port 22"; its port 53 logs queries
// and answers none.
type FakeInternet struct {
	// IP is the fake host's main address (TEST-NET-3).
	IP string
	// PrivateIP is a private (RFC 1918) address the fake host owns too.
	PrivateIP string
	// MetadataIP is the cloud metadata address, also the fake host's.
	MetadataIP string
	// Allowed is a name to put on allowlists (sub.Allowed resolves too).
	Allowed string
	// Blocked is a name to leave off allowlists.
	Blocked string
	// Private looks allowed (a subdomain of Allowed) but resolves to PrivateIP.
	Private string
	// Metadata looks allowed but resolves to MetadataIP.
	Metadata string
	// APINames are the real API hosts paude uses (Anthropic, Vertex AI,
	// Google OAuth), all resolving to IP; Serve puts a fake API behind one.
	APINames []string
	// DNSLog is the fake host's log of DNS queries, one line each:
	// "<time> <udp|tcp> <client addr> <name> <type>".
	DNSLog string
	hooks  string
}

// Serve makes the fake host pass HTTP and HTTPS requests for host (one of
// the fake names, without port) to h, until the test ends. The fake host
// keeps terminating TLS; h sees the original Host and X-Forwarded-Proto.
func (f FakeInternet) Serve(t testing.TB, host string, h http.Handler) {
	t.Helper()
	if f.hooks == "" {
		t.Fatal("the fake internet has no hook directory: source the testbed's env file (PAUDE_TESTBED_FAKE_HOOKS)")
	}
	if host == "" || strings.ContainsAny(host, `/\:`) {
		t.Fatalf("invalid host %q: give a DNS name without port", host)
	}
	sock := filepath.Join(f.hooks, strings.ToLower(host)+".sock")
	_ = os.Remove(sock) // a socket left by a killed test
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("failed to listen on %s: %v", sock, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("fake %s server: %v", host, err)
		}
		_ = os.Remove(sock)
	})
}

// DNSLogCursor starts reading the fake host's DNS query log here.
func (f FakeInternet) DNSLogCursor(t testing.TB) *LogCursor {
	t.Helper()
	cur, err := NewLogCursor(f.DNSLog)
	if err != nil {
		t.Fatal(err)
	}
	return cur
}
