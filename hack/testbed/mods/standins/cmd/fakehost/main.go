// Command fakehost is the testbed's "internet": one host in a network
// namespace of its own, behind a veth from the cluster's namespace, that
// answers for every outside name the testbed's DNS hands out.
//
//	fakehost -tls-cert F -tls-key F -dns-log F [-hooks DIR] [-banner-ports 22]
//
// It serves
//   - HTTP on :80 and HTTPS on :443 (a certificate from the testbed CA for
//     every fake name): each request gets one line naming the Host it asked
//     for and the address it reached, "fakehost: host=H addr=A path=P", so a
//     test can tell which name and which address answered;
//   - a plain TCP banner on each banner port ("fakehost port 22"), to prove
//     a port is or is not reachable;
//   - a DNS query logger on UDP and TCP :53 that answers every query with
//     REFUSED and appends one line per query to the -dns-log file
//     ("<RFC3339 time> <udp|tcp> <client> <name> <type>"), so a test can
//     prove that no query reached the outside.
//
// Hooks: when DIR/<host>.sock exists (a Unix socket, host without port),
// requests for that Host on :80 and :443 are passed to the HTTP server
// listening there instead of answered with the line above; the TLS is
// still this program's. A test serves any http.Handler (a fake Anthropic or
// Vertex API) by listening on that path; see kubetest.FakeInternet.Serve.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		tlsCert     = flag.String("tls-cert", "", "certificate for every fake name (PEM)")
		tlsKey      = flag.String("tls-key", "", "key of -tls-cert (PEM)")
		dnsLog      = flag.String("dns-log", "", "file to append one line per DNS query to")
		hooks       = flag.String("hooks", "", "directory of <host>.sock Unix sockets that serve a host's HTTP instead")
		bannerPorts = flag.String("banner-ports", "22", "comma-separated TCP ports that send a one-line banner")
	)
	flag.Parse()
	if *tlsCert == "" || *tlsKey == "" || *dnsLog == "" {
		log.Fatal("-tls-cert, -tls-key and -dns-log are required: see the comment at the top of main.go")
	}
	cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
	if err != nil {
		log.Fatalf("failed to load the certificate: %v", err)
	}
	queries, err := os.OpenFile(*dnsLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Fatalf("failed to open the DNS log: %v", err)
	}
	defer queries.Close()

	h := &site{hooks: *hooks}
	servers := []*http.Server{
		{Addr: ":80", Handler: h, ReadHeaderTimeout: 10 * time.Second},
		{Addr: ":443", Handler: h, ReadHeaderTimeout: 10 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}},
	}
	errs := make(chan error, 8)
	go func() { errs <- servers[0].ListenAndServe() }()
	go func() { errs <- servers[1].ListenAndServeTLS("", "") }()
	for _, p := range strings.Split(*bannerPorts, ",") {
		port, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
		if err != nil || port == 0 {
			log.Fatalf("invalid banner port %q: want a number from 1 to 65535", p)
		}
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			log.Fatalf("failed to listen on port %d: %v", port, err)
		}
		go func() { errs <- banner(l, fmt.Sprintf("fakehost port %d\n", port)) }()
	}
	dns, err := startDNSLogger(":53", queries)
	if err != nil {
		log.Fatalf("failed to start the DNS logger: %v", err)
	}
	log.Printf("fakehost serving :80, :443, banner ports %s and DNS logging on :53 (hooks in %q)", *bannerPorts, *hooks)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-errs:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Printf("fakehost: %v", err)
			defer os.Exit(1)
		}
	}
	dns.shutdown()
	for _, s := range servers {
		_ = s.Close()
	}
}

// banner answers every connection on l with one line and closes it.
func banner(l net.Listener, line string) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return fmt.Errorf("failed to accept on %s: %w", l.Addr(), err)
		}
		go func() {
			defer c.Close()
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write([]byte(line))
		}()
	}
}
