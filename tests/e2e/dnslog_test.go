//go:build e2e

package e2e

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// dnsLog is a logging DNS server. It records the name of every query it
// receives (UDP and TCP). Names in answers get an A record; any other
// name gets REFUSED, so a host process falls through to its next, real,
// resolver. Two run in the suite: the stand-in for the host's upstream
// resolver (no answers: a query reaching it from a container is a leak),
// and the proxy's resolver (answers the test names with the fake host).
type dnsLog struct {
	mu      sync.Mutex
	names   []string
	answers map[string]net.IP
	udp     net.PacketConn
	tcp     net.Listener
}

// startDNSLog listens on addr (host:53), answering the names in answers.
func startDNSLog(addr string, answers map[string]string) (*dnsLog, error) {
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		udp.Close()
		return nil, err
	}
	d := &dnsLog{udp: udp, tcp: tcp, answers: map[string]net.IP{}}
	for name, ip := range answers {
		d.answers[strings.ToLower(name)] = net.ParseIP(ip).To4()
	}
	go d.serveUDP()
	go d.serveTCP()
	return d, nil
}

func (d *dnsLog) Close() {
	d.udp.Close()
	d.tcp.Close()
}

// seen reports whether a query for a name containing s arrived.
func (d *dnsLog) seen(s string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range d.names {
		if strings.Contains(strings.ToLower(n), strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// waitSeen polls seen for a while: a forwarded query arrives after the
// client's own call returned.
func (d *dnsLog) waitSeen(s string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		if d.seen(s) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *dnsLog) serveUDP() {
	buf := make([]byte, 4096)
	for {
		n, addr, err := d.udp.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if resp := d.handle(buf[:n]); resp != nil {
			_, _ = d.udp.WriteTo(resp, addr)
		}
	}
}

func (d *dnsLog) serveTCP() {
	for {
		c, err := d.tcp.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			var l [2]byte
			if _, err := io.ReadFull(c, l[:]); err != nil {
				return
			}
			msg := make([]byte, binary.BigEndian.Uint16(l[:]))
			if _, err := io.ReadFull(c, msg); err != nil {
				return
			}
			if resp := d.handle(msg); resp != nil {
				binary.BigEndian.PutUint16(l[:], uint16(len(resp)))
				_, _ = c.Write(append(l[:], resp...))
			}
		}()
	}
}

// handle records the question name and answers it: an A record for a
// known name asked for type A, an empty answer for a known name's other
// types, REFUSED for every other name.
func (d *dnsLog) handle(msg []byte) []byte {
	if len(msg) < 12 {
		return nil
	}
	name, end, ok := questionName(msg)
	if !ok {
		return nil
	}
	d.mu.Lock()
	d.names = append(d.names, name)
	d.mu.Unlock()
	resp := append([]byte(nil), msg[:end]...)
	resp[2] = 0x80 | (msg[2] & 0x79) // QR, opcode and RD copied
	binary.BigEndian.PutUint16(resp[4:], 1)
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	ip, known := d.answers[strings.ToLower(strings.TrimSuffix(name, "."))]
	if !known {
		resp[3] = 0x05 // REFUSED
		return resp
	}
	resp[3] = 0x80 // RA, NOERROR
	if qtype := binary.BigEndian.Uint16(msg[end-4:]); qtype == 1 && ip != nil {
		binary.BigEndian.PutUint16(resp[6:], 1)
		// Name pointer to the question, type A, class IN, TTL 60, 4 bytes.
		resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		resp = append(resp, ip...)
	}
	return resp
}

// questionName reads the first question's name; end is the offset after
// its type and class.
func questionName(msg []byte) (string, int, bool) {
	var labels []string
	i := 12
	for {
		if i >= len(msg) {
			return "", 0, false
		}
		l := int(msg[i])
		if l == 0 {
			break
		}
		if l > 63 || i+1+l > len(msg) {
			return "", 0, false
		}
		labels = append(labels, string(msg[i+1:i+1+l]))
		i += 1 + l
	}
	end := i + 5
	if end > len(msg) {
		return "", 0, false
	}
	return strings.Join(labels, "."), end, true
}
