package image

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// upstreams are the servers behind the proxy in the policy test.
type upstreams struct {
	mu    sync.Mutex
	count map[string]int
}

func (u *upstreams) hit(kind string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.count[kind]++
}

func (u *upstreams) hits(kind string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.count[kind]
}

// startUpstreams starts the allowed upstream (HTTP on :80, a TCP echo on
// :443) and the decoys the proxy must never reach.
func startUpstreams(t *testing.T) *upstreams {
	t.Helper()
	u := &upstreams{count: map[string]int{}}
	serveHTTP(t, upstreamIP+":80", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hit("upstream")
		var seen []string
		for _, h := range []string{"Via", "X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
			if v := r.Header.Get(h); v != "" {
				seen = append(seen, h+"="+v)
			}
		}
		w.Header().Set("X-Seen-Proxy-Headers", strings.Join(seen, ","))
		_, _ = io.WriteString(w, "upstream ok")
	}))
	serveTCP(t, upstreamIP+":443", func(c net.Conn) { _, _ = io.Copy(c, c) })
	serveTCP(t, upstreamIP+":8443", func(net.Conn) { u.hit("8443") })
	for _, d := range privateDecoys {
		if !d.listen {
			continue
		}
		serveHTTP(t, net.JoinHostPort(d.addr, "80"), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			u.hit("decoy")
			_, _ = io.WriteString(w, "decoy reached")
		}))
	}
	for _, addr := range []string{"127.0.0.1:443", "10.0.0.1:443", "[::1]:443"} {
		serveTCP(t, addr, func(net.Conn) { u.hit("decoy") })
	}
	return u
}

func listen(t testing.TB, network, addr string) net.Listener {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func serveHTTP(t *testing.T, addr string, h http.Handler) {
	t.Helper()
	l := listen(t, "tcp", addr)
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
}

func serveTCP(t testing.TB, addr string, handle func(net.Conn)) {
	t.Helper()
	l := listen(t, "tcp", addr)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
}

// dnsLogger answers every query on 127.0.0.1:53 with NXDOMAIN and keeps
// the names asked.
type dnsLogger struct {
	mu    sync.Mutex
	asked []string
}

func (d *dnsLogger) saw(fragment string) bool {
	for _, n := range d.names() {
		if strings.Contains(n, fragment) {
			return true
		}
	}
	return false
}

func (d *dnsLogger) names() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string{}, d.asked...)
}

func startDNSLogger(t *testing.T) *dnsLogger {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:53: %v", err)
	}
	t.Cleanup(func() { pc.Close() })
	d := &dnsLogger{}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			name, end, ok := dnsQuestion(buf[:n])
			if !ok {
				continue
			}
			d.mu.Lock()
			d.asked = append(d.asked, name)
			d.mu.Unlock()
			reply := append([]byte{}, buf[:end]...)
			reply[2] = 0x80 | buf[2]&0x01 // response, copy RD
			reply[3] = 0x80 | 3           // RA, NXDOMAIN
			for i := 6; i < 12; i++ {
				reply[i] = 0 // no answer, authority or additional records
			}
			_, _ = pc.WriteTo(reply, from)
		}
	}()
	return d
}

// dnsQuestion returns the name of a query's first question and where the
// question section ends.
func dnsQuestion(msg []byte) (string, int, bool) {
	if len(msg) < 12 || msg[4] != 0 || msg[5] == 0 {
		return "", 0, false
	}
	var labels []string
	i := 12
	for i < len(msg) && msg[i] != 0 {
		l := int(msg[i])
		if l > 63 || i+1+l > len(msg) {
			return "", 0, false
		}
		labels = append(labels, string(msg[i+1:i+1+l]))
		i += 1 + l
	}
	end := i + 5 // the root label, QTYPE and QCLASS
	if end > len(msg) {
		return "", 0, false
	}
	return strings.Join(labels, "."), end, true
}
