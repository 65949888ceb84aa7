package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// site answers HTTP and HTTPS requests: through a hook's socket when one is
// there for the requested host, with the naming line otherwise.
type site struct {
	hooks string
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	addr := ""
	if local != nil {
		addr, _, _ = net.SplitHostPort(local.String())
	}
	if sock := s.hook(host); sock != "" {
		log.Printf("%s %s host=%s addr=%s path=%s -> hook %s", r.RemoteAddr, r.Method, host, addr, r.URL.Path, sock)
		hookProxy(sock, r.TLS != nil).ServeHTTP(w, r)
		return
	}
	log.Printf("%s %s host=%s addr=%s path=%s", r.RemoteAddr, r.Method, host, addr, r.URL.Path)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "fakehost: host=%s addr=%s path=%s\n", host, addr, r.URL.Path)
}

// hook returns the socket that serves host, or "" when none does. A host
// is a DNS name here; anything that could leave the directory is refused.
func (s *site) hook(host string) string {
	if s.hooks == "" || host == "" || strings.ContainsAny(host, `/\`) || strings.HasPrefix(host, ".") {
		return ""
	}
	sock := filepath.Join(s.hooks, host+".sock")
	if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		return ""
	}
	return sock
}

// hookProxy passes a request on to the HTTP server on a Unix socket,
// keeping the Host and telling it the original scheme.
func hookProxy(sock string, viaTLS bool) *httputil.ReverseProxy {
	scheme := "http"
	if viaTLS {
		scheme = "https"
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: "http", Host: pr.In.Host})
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Forwarded-Proto", scheme)
		},
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
		},
		FlushInterval: -1, // stream server-sent events as they come
	}
}
