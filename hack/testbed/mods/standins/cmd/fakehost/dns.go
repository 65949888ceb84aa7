package main

import (
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// dnsLogger serves DNS on UDP and TCP, refusing every query and writing
// one line per query to its log.
type dnsLogger struct {
	mu      sync.Mutex
	out     io.Writer
	servers []*dns.Server
}

// startDNSLogger listens on addr (UDP and TCP) and returns once both
// listeners are up.
func startDNSLogger(addr string, out io.Writer) (*dnsLogger, error) {
	d := &dnsLogger{out: out}
	for _, network := range []string{"udp", "tcp"} {
		started := make(chan struct{})
		srv := &dns.Server{Addr: addr, Net: network, Handler: d, NotifyStartedFunc: func() { close(started) }}
		failed := make(chan error, 1)
		go func() { failed <- srv.ListenAndServe() }()
		select {
		case <-started:
		case err := <-failed:
			d.shutdown()
			return nil, fmt.Errorf("failed to listen on %s/%s: %w", addr, network, err)
		}
		d.servers = append(d.servers, srv)
	}
	return d, nil
}

// ServeDNS logs the query and refuses it: the fake internet resolves
// nothing, it only witnesses what reached it.
func (d *dnsLogger) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	network := "udp"
	if strings.HasPrefix(w.RemoteAddr().Network(), "tcp") {
		network = "tcp"
	}
	d.mu.Lock()
	for _, q := range req.Question {
		line := fmt.Sprintf("%s %s %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), network,
			w.RemoteAddr(), strings.TrimSuffix(strings.ToLower(q.Name), "."), dns.TypeToString[q.Qtype])
		if _, err := io.WriteString(d.out, line); err != nil {
			log.Printf("failed to log a DNS query: %v", err)
		}
	}
	d.mu.Unlock()
	resp := new(dns.Msg)
	resp.SetRcode(req, dns.RcodeRefused)
	_ = w.WriteMsg(resp)
}

func (d *dnsLogger) shutdown() {
	for _, s := range d.servers {
		_ = s.Shutdown()
	}
}
