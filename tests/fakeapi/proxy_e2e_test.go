//go:build e2e

package fakeapi

import (
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// connectProxy is a recording forward proxy with a domain allowlist, the
// part of paude's squid that matters here: it answers CONNECT to port 443
// of an allowed name by splicing the tunnel to the fake's TLS listener
// (whatever the name), refuses the rest with 403 as squid does, and
// records every attempt.
type connectProxy struct {
	upstream string   // the fake's TLS listener
	allow    []string // host names allowed; nil allows every name

	mu       sync.Mutex
	attempts []proxyAttempt
}

// proxyAttempt is one request the proxy saw.
type proxyAttempt struct {
	Method, Target string
	Allowed        bool
}

// startProxy serves a connectProxy on a loopback port until the test ends
// and returns it with its URL (for HTTPS_PROXY).
func startProxy(t *testing.T, upstream string, allow []string) (p *connectProxy, proxyURL string) {
	t.Helper()
	p = &connectProxy{upstream: upstream, allow: allow}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p, "http://" + ln.Addr().String()
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Host
	if r.Method != http.MethodConnect {
		target = r.URL.String()
	}
	host, port, _ := net.SplitHostPort(r.Host)
	allowed := r.Method == http.MethodConnect && port == "443" && (p.allow == nil || slices.Contains(p.allow, host))
	p.mu.Lock()
	p.attempts = append(p.attempts, proxyAttempt{Method: r.Method, Target: target, Allowed: allowed})
	p.mu.Unlock()
	if !allowed {
		http.Error(w, "fakeapi proxy: access denied to "+target, http.StatusForbidden)
		return
	}
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	// Bytes the client sent right after its CONNECT may sit in buf.
	go func() { _, _ = io.Copy(up, buf); closeWrite(up) }()
	_, _ = io.Copy(conn, up)
	_ = conn.Close()
	_ = up.Close()
}

// Attempts returns what the proxy saw so far.
func (p *connectProxy) Attempts() []proxyAttempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]proxyAttempt(nil), p.attempts...)
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// resolver is the sandbox's DNS server on 127.0.0.1:53 (UDP). It records
// every name asked and answers NXDOMAIN, as paude's agent has no DNS for
// outside names; with answerLoopback it answers 127.0.0.1 instead, so a
// client that ignores the proxy reaches the fake directly and is seen.
type resolver struct {
	answerLoopback bool

	mu    sync.Mutex
	names []string
}

// startResolver serves a resolver until the test ends. Only one test at a
// time can hold port 53, so tests that use it do not run in parallel.
func startResolver(t *testing.T, answerLoopback bool) *resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		t.Fatalf("failed to listen on 127.0.0.1:53 in the sandbox: %v", err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	r := &resolver{answerLoopback: answerLoopback}
	go r.serve(pc)
	return r
}

func (r *resolver) serve(pc net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if reply, ok := r.answer(buf[:n]); ok {
			_, _ = pc.WriteTo(reply, from)
		}
	}
}

// answer records the question of one query and builds the reply.
func (r *resolver) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	r.mu.Lock()
	r.names = append(r.names, q.Type.String()+" "+q.Name.String())
	r.mu.Unlock()
	resp := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true, RCode: dnsmessage.RCodeNameError},
		Questions: []dnsmessage.Question{q},
	}
	if r.answerLoopback {
		resp.RCode = dnsmessage.RCodeSuccess
		if q.Type == dnsmessage.TypeA {
			resp.Answers = []dnsmessage.Resource{{
				Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 5},
				Body:   &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}},
			}}
		}
	}
	out, err := resp.Pack()
	return out, err == nil
}

// Names returns the questions asked so far, as "TYPE name.".
func (r *resolver) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.names...)
}
