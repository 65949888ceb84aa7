// Command fakehost is the e2e suite's "internet": a static binary the
// suite packs into a tiny image and runs on a test network of its own. It
// serves HTTP on :80 and HTTPS (self-signed) on :443 and :8443, answering
// every request with one line naming the Host it was asked for, so a test
// can tell which name reached it. When the suite mounts a certificate for
// the model providers' real host names at /certs (tests/fakeapi's CA),
// requests for those names on :443 get the fake model endpoints of
// tests/fakeapi instead, which log every request on stdout.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/paude-dev/paude/tests/fakeapi"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: fakehost serve")
		os.Exit(2)
	}
	cert, err := selfSigned()
	if err != nil {
		log.Fatalf("failed to make a certificate: %v", err)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "fakehost says hello: host=%s path=%s\n", r.Host, r.URL.Path)
	})
	var h http.Handler = hello
	certs := []tls.Certificate{cert}
	if api, err := tls.LoadX509KeyPair("/certs/tls.crt", "/certs/tls.key"); err == nil {
		// Go picks the certificate whose names match the client's SNI,
		// the first one for any other name.
		certs = append(certs, api)
		fake := fakeapi.NewServer(fakeapi.DefaultReply)
		fake.Log = os.Stdout
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, err := net.SplitHostPort(r.Host)
			if err != nil {
				host = r.Host
			}
			switch {
			case host == fakeapi.AnthropicAPIHost || host == fakeapi.ClaudeTokenHost ||
				host == fakeapi.GoogleTokenHost || fakeapi.IsVertexHost(host):
				fake.ServeHTTP(w, r)
			default:
				hello(w, r)
			}
		})
		log.Printf("fakehost serving the fake model endpoints")
	}
	errs := make(chan error, 3)
	for _, addr := range []string{":443", ":8443"} {
		srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second,
			TLSConfig: &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}}
		go func() { errs <- srv.ListenAndServeTLS("", "") }()
	}
	srv := &http.Server{Addr: ":80", Handler: hello, ReadHeaderTimeout: 5 * time.Second}
	go func() { errs <- srv.ListenAndServe() }()
	log.Printf("fakehost serving :80, :443 and :8443")
	log.Fatal(<-errs)
}

// selfSigned makes a throw-away certificate for the test names; clients
// in the suite use curl -k, as what is tested is the proxy's decision.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fakehost"},
		DNSNames:     []string{"allowed.test", "sub.allowed.test", "blocked.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
