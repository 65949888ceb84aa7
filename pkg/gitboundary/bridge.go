package gitboundary

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/paude-dev/paude/pkg/remote"
)

// BridgeCommand is the hidden subcommand of the paude binaries that host
// git runs as its ext:: transport during a fetch: `<binary> BridgeCommand
// <socket>`. The command tree wires it to RunBridge.
const BridgeCommand = "__git-bridge"

// DefaultBridge is the bridge argv for the running binary: its own path
// and BridgeCommand.
func DefaultBridge() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("failed to find the paude binary for git's transport: %w", err)
	}
	return []string{exe, BridgeCommand}, nil
}

// RunBridge connects in and out (git's end of the ext:: transport) to the
// unix socket on which Fetch serves the session's `git upload-pack`, and
// returns when the session's side ends. It carries bytes only; git on the
// host and upload-pack in the session speak the protocol.
func RunBridge(socket string, in io.Reader, out io.Writer) error {
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return fmt.Errorf("failed to reach paude's git transport at %s: %w: run the fetch again", socket, err)
	}
	defer func() { _ = conn.Close() }()
	go func() {
		_, _ = io.Copy(conn, in)
		// Git closed its end: let the session's upload-pack see EOF.
		_ = conn.(*net.UnixConn).CloseWrite()
	}()
	_, err = io.Copy(out, conn)
	return err
}

// uploadPackServer serves `git upload-pack` in the session, one command
// per connection, on a unix socket in a private (0700) directory: the
// host's git reaches it through the bridge, so any remote.Executor works
// as git's transport.
type uploadPackServer struct {
	dir  string
	ln   *net.UnixListener
	repo SessionRepo

	mu      sync.Mutex
	idleC   *sync.Cond
	active  int
	closed  bool
	limit   int64
	limited bool
	stderr  tailBuffer
	errs    []error
}

// listenUploadPack starts serving s's git directory.
func listenUploadPack(ctx context.Context, s SessionRepo) (*uploadPackServer, error) {
	dir, err := os.MkdirTemp("", "paude-git-")
	if err != nil {
		return nil, fmt.Errorf("failed to create a directory for git's transport: %w", err)
	}
	sock := filepath.Join(dir, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("failed to listen on %s: %w: set TMPDIR to a short local path", sock, err)
	}
	u := &uploadPackServer{dir: dir, ln: ln, repo: s, stderr: tailBuffer{max: 16 << 10}}
	u.idleC = sync.NewCond(&u.mu)
	go u.serve(ctx)
	return u, nil
}

// url is the ext:: URL that makes git run bridge with the socket.
func (u *uploadPackServer) url(bridge []string) string {
	args := append(append([]string(nil), bridge...), u.ln.Addr().String())
	for i, a := range args {
		// ext:: splits on spaces and expands %-sequences.
		args[i] = strings.NewReplacer("%", "%%", " ", "% ").Replace(a)
	}
	return "ext::" + strings.Join(args, " ")
}

// serve accepts until the listener is closed.
func (u *uploadPackServer) serve(ctx context.Context) {
	for {
		conn, err := u.ln.AcceptUnix()
		if err != nil {
			return
		}
		u.mu.Lock()
		if u.closed {
			u.mu.Unlock()
			_ = conn.Close()
			return
		}
		u.active++
		limit := u.limit
		u.mu.Unlock()
		go u.handle(ctx, conn, limit)
	}
}

// handle runs one upload-pack in the session for conn. Its standard
// input is an OS pipe, not the connection: an executor that runs a local
// process then passes the descriptor, and need not wait for the host to
// hang up before it reports that the command ended.
func (u *uploadPackServer) handle(ctx context.Context, conn *net.UnixConn, limit int64) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stderr := &tailBuffer{max: 16 << 10}
	var execErr error
	var lw *limitWriter
	defer func() {
		_ = conn.Close()
		u.mu.Lock()
		u.stderr.Write([]byte(stderr.String())) //nolint:errcheck // tailBuffer never fails
		if execErr != nil {
			u.errs = append(u.errs, execErr)
		}
		if lw != nil && lw.hit {
			u.limited = true
		}
		u.active--
		u.idleC.Broadcast()
		u.mu.Unlock()
	}()
	pr, pw, err := os.Pipe()
	if err != nil {
		execErr = err
		return
	}
	go func() {
		_, _ = io.Copy(pw, conn)
		_ = pw.Close()
	}()
	var out io.Writer = conn
	if limit > 0 {
		lw = &limitWriter{w: conn, n: limit, onLimit: cancel}
		out = lw
	}
	execErr = u.repo.Exec.Exec(ctx, remote.Cmd{
		Argv:  []string{"git", "upload-pack", "--strict", u.repo.gitDir()},
		Stdin: pr, Stdout: out, Stderr: stderr,
	})
	_ = pr.Close()
}

// setLimit caps the bytes each later connection takes from the session.
func (u *uploadPackServer) setLimit(n int64) {
	u.mu.Lock()
	u.limit = n
	u.mu.Unlock()
}

// settle waits until no connection is being served and returns (and
// forgets) what the session's side said and whether the limit cut it.
func (u *uploadPackServer) settle() (sessionErr error, limited bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for u.active > 0 {
		u.idleC.Wait()
	}
	if len(u.errs) > 0 {
		msg := displayLines(u.stderr.String(), 4)
		if msg == "" {
			msg = "no message"
		}
		sessionErr = fmt.Errorf("%w (session said: %s)", errors.Join(u.errs...), msg)
	}
	limited = u.limited
	u.errs, u.limited, u.stderr.b = nil, false, nil
	return sessionErr, limited
}

// close stops serving, waits for connections being served, and removes
// the socket's directory.
func (u *uploadPackServer) close() {
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	_ = u.ln.Close()
	u.settle() //nolint:errcheck // close reports nothing; the caller settled before
	_ = os.RemoveAll(u.dir)
}
