package image

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkProxyTunnels measures what a session's proxy costs, to size
// backend.proxyResources. Each iteration echoes payload bytes through
// concurrent CONNECT tunnels, and, as the same-run baseline, the same bytes
// over direct connections to the same upstream. It reports the proxy's
// time as a multiple of the direct time, and squid's resident memory idle,
// with many idle tunnels open (Claude Code keeps a few long-lived
// connections; a runaway agent may open many), and at peak. The idle
// tunnels go first: squid keeps the memory it has grown to.
//
// It needs a network namespace of its own: run hack/bench/proxy.sh.
func BenchmarkProxyTunnels(b *testing.B) {
	if os.Getenv(netnsChildEnv) != "1" {
		b.Skip("runs inside a network namespace of its own: hack/bench/proxy.sh")
	}
	proxyPrereqs(b)
	for _, args := range [][]string{{"link", "set", "lo", "up"}, {"addr", "add", upstreamIP + "/32", "dev", "lo"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			b.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	serveTCP(b, upstreamIP+":443", func(c net.Conn) { _, _ = io.Copy(c, c) })
	proxy := startProxy(b, SquidOptions{AllowedDomains: []string{"allowed.test"}, HostsFile: true}, upstreamIP+" allowed.test\n", nil)
	idle := squidMemory(b, proxy.pid)
	b.Logf("squid idle: RSS %.1f MiB", idle.rssMiB)

	b.Run("idle-tunnels=500", func(b *testing.B) {
		for range b.N {
			held := make([]net.Conn, 0, 500)
			for range 500 {
				held = append(held, tunnel(b, proxy, "allowed.test:443"))
			}
			open := squidMemory(b, proxy.pid)
			for _, c := range held {
				c.Close()
			}
			b.ReportMetric(open.rssMiB, "squid-RSS-MiB")
			b.ReportMetric((open.rssMiB-idle.rssMiB)*1024/500, "KiB/tunnel")
		}
	})

	const payload = 4 << 20
	for _, conns := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			var direct, proxied time.Duration
			for range b.N {
				direct += echoAll(b, conns, payload, func() net.Conn { return dial(b, upstreamIP+":443") })
				proxied += echoAll(b, conns, payload, func() net.Conn { return tunnel(b, proxy, "allowed.test:443") })
			}
			mem := squidMemory(b, proxy.pid)
			b.ReportMetric(float64(proxied)/float64(direct), "proxy/direct")
			b.ReportMetric(float64(b.N*conns*payload)/proxied.Seconds()/1e6, "proxy-MB/s")
			b.ReportMetric(mem.peakMiB, "squid-peak-MiB")
			b.ReportMetric(idle.rssMiB, "squid-idle-MiB")
		})
	}
}

// echoAll sends size bytes through each of conns connections at once and
// reads them back, and returns how long that took.
func echoAll(b *testing.B, conns, size int, open func() net.Conn) time.Duration {
	b.Helper()
	cs := make([]net.Conn, conns)
	for i := range cs {
		cs[i] = open()
	}
	chunk := bytes.Repeat([]byte("paude proxy bench "), 64<<10/18)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			go func() {
				for sent := 0; sent < size; sent += len(chunk) {
					if _, err := c.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
						return
					}
				}
			}()
			if n, err := io.CopyN(io.Discard, c, int64(size)); err != nil {
				errs <- fmt.Errorf("echoed %d of %d bytes: %w", n, size, err)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return elapsed
}

func dial(b *testing.B, addr string) net.Conn {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// tunnel opens a CONNECT tunnel through the proxy and returns it once squid
// has answered 200.
func tunnel(b *testing.B, p *proxyProcess, target string) net.Conn {
	b.Helper()
	c := dial(b, p.addr)
	if _, err := io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n"); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReader(c)
	status, err := r.ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		b.Fatalf("CONNECT %s: %q %v", target, status, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	if r.Buffered() > 0 {
		b.Fatalf("CONNECT %s: squid sent tunnel bytes before the client did", target)
	}
	return c
}

type memory struct{ rssMiB, peakMiB float64 }

// squidMemory reads squid's resident and peak resident memory. squid runs
// with -N, so one process holds the whole proxy (the entrypoint's log tail
// is a few hundred KiB more in the pod).
func squidMemory(b *testing.B, pid int) memory {
	b.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	var m memory
	for line := range strings.Lines(string(raw)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kib, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			m.rssMiB = kib / 1024
		case "VmHWM:":
			m.peakMiB = kib / 1024
		}
	}
	return m
}
