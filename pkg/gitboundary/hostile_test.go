package gitboundary

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paude-dev/paude/pkg/remote"
)

// hostileExec stands for a session whose agent replaced or wrapped git
// upload-pack: paude runs the real upload-pack through inner, and the
// agent rewrites what it says.
type hostileExec struct {
	inner remote.Executor
	// advertise, when set, rewrites the payloads of the ref advertisement
	// (before its flush packet); the rest of the exchange is untouched.
	advertise func(payloads []string) []string
	// replace, when set, is all the session says; upload-pack never runs.
	replace func(w io.Writer)
}

func (h *hostileExec) Exec(ctx context.Context, cmd remote.Cmd) error {
	if h.replace != nil {
		if cmd.Stdin != nil {
			go func() { _, _ = io.Copy(io.Discard, cmd.Stdin) }()
		}
		h.replace(cmd.Stdout)
		return nil
	}
	if h.advertise == nil || len(cmd.Argv) < 2 || cmd.Argv[1] != "upload-pack" {
		return h.inner.Exec(ctx, cmd)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	inner := cmd
	inner.Stdout = pw
	go func() {
		err := h.inner.Exec(ctx, inner)
		_ = pw.CloseWithError(err)
		done <- err
	}()
	br := bufio.NewReader(pr)
	var payloads []string
	for {
		p, flush, err := readPkt(br)
		if err != nil {
			_ = pr.CloseWithError(err)
			return <-done
		}
		if flush {
			break
		}
		payloads = append(payloads, p)
	}
	for _, p := range h.advertise(payloads) {
		writePkt(cmd.Stdout, p)
	}
	_, _ = io.WriteString(cmd.Stdout, "0000")
	_, _ = io.Copy(cmd.Stdout, br)
	_ = pr.Close()
	return <-done
}

// readPkt reads one pkt-line: its payload, or flush for "0000".
func readPkt(r *bufio.Reader) (payload string, flush bool, err error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", false, err
	}
	size, err := strconv.ParseUint(string(n[:]), 16, 16)
	if err != nil {
		return "", false, fmt.Errorf("bad pkt-line length %q", n)
	}
	if size == 0 {
		return "", true, nil
	}
	b := make([]byte, size-4)
	_, err = io.ReadFull(r, b)
	return string(b), false, err
}

// writePkt writes payload as a pkt-line and reports whether it could.
func writePkt(w io.Writer, payload string) bool {
	_, err := fmt.Fprintf(w, "%04x%s", len(payload)+4, payload)
	return err == nil
}

// injectRefs returns an advertise func that adds "<oid> <name>" lines
// after the first (which carries the capabilities); oid "" means the
// first line's object.
func injectRefs(refs ...[2]string) func([]string) []string {
	return func(p []string) []string {
		first := p[0][:strings.IndexByte(p[0], ' ')]
		out := []string{p[0]}
		for _, r := range refs {
			oid := r[0]
			if oid == "" {
				oid = first
			}
			out = append(out, oid+" "+r[1]+"\n")
		}
		return append(out, p[1:]...)
	}
}

// manyRefs is n advertised branches, all at the first line's object.
func manyRefs(n int) [][2]string {
	refs := make([][2]string, n)
	for i := range refs {
		refs[i] = [2]string{"", fmt.Sprintf("refs/heads/many/%06d", i)}
	}
	return refs
}

// endless advertises refs until the host hangs up.
func endless(w io.Writer) {
	oid := hex.EncodeToString(make([]byte, 20))
	if !writePkt(w, oid+" HEAD\x00multi_ack side-band-64k ofs-delta\n") {
		return
	}
	for i := 0; ; i++ {
		if !writePkt(w, fmt.Sprintf("%s refs/heads/endless/%09d\n", oid, i)) {
			return
		}
	}
}

// hasControl reports whether s holds a control character other than
// newline, or a bidi override: anything that could act on a terminal.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e'
	})
}
