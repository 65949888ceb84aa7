// Command registry-auth is the token endpoint of the testbed registry, in
// the part OpenShift's integrated registry plays: a client offers HTTP basic
// credentials whose password is a Kubernetes bearer token (a user's token or
// a ServiceAccount token, as `podman login -p $(oc whoami -t)` does); the
// token is checked with a TokenReview against the testbed API server, each
// requested repository action with a SubjectAccessReview on
// imagestreams/layers in the repository's namespace (get to pull, update to
// push, as OpenShift's registry asks), and the granted actions come back in
// a registry JWT (the Docker token format) signed by a key the registry
// trusts through its auth.token.rootcertbundle.
//
//	registry-auth -listen ADDR -tls-cert F -tls-key F -kubeconfig F \
//	    -signing-key F -signing-cert F -issuer NAME -service NAME [-ttl D]
//
// The endpoint is /token. It answers GET with basic auth (the Docker token
// protocol) and POST with a password grant form (the OAuth2 flavour that
// containerd tries first). A missing, wrong or expired Kubernetes token gets
// 401; an action the identity may not perform is left out of the JWT, and
// the registry then refuses the request.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	var (
		listen      = flag.String("listen", "", "address to serve HTTPS on (host:port)")
		tlsCert     = flag.String("tls-cert", "", "serving certificate (PEM)")
		tlsKey      = flag.String("tls-key", "", "serving key (PEM)")
		kubeconfig  = flag.String("kubeconfig", "", "kubeconfig with the right to create tokenreviews and subjectaccessreviews")
		signingKey  = flag.String("signing-key", "", "EC P-256 key that signs registry tokens (PEM)")
		signingCert = flag.String("signing-cert", "", "certificate of the signing key, sent in each token's x5c header (PEM)")
		issuer      = flag.String("issuer", "", "issuer the registry expects (auth.token.issuer)")
		service     = flag.String("service", "", "service the registry names itself (auth.token.service)")
		ttl         = flag.Duration("ttl", 5*time.Minute, "lifetime of a registry token")
	)
	flag.Parse()
	for name, v := range map[string]string{"listen": *listen, "tls-cert": *tlsCert, "tls-key": *tlsKey,
		"kubeconfig": *kubeconfig, "signing-key": *signingKey, "signing-cert": *signingCert,
		"issuer": *issuer, "service": *service} {
		if v == "" {
			log.Fatalf("-%s is required: see the comment at the top of main.go", name)
		}
	}
	signer, err := loadSigner(*signingKey, *signingCert, *issuer, *service, *ttl)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("failed to load kubeconfig %s: %v", *kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatalf("failed to create a client from %s: %v", *kubeconfig, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/token", &tokenHandler{reviewer: &apiReviewer{client: client}, signer: signer, service: *service})
	srv := &http.Server{
		Addr:              *listen,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("registry-auth serving https://%s/token for service %q, issuer %q", *listen, *service, *issuer)
	if err := srv.ListenAndServeTLS(*tlsCert, *tlsKey); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "registry-auth: %v\n", err)
		os.Exit(1)
	}
}
