package sync

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/paude-dev/paude/pkg/hostpath"
)

// A running native engine can be reached from another paude process (the
// `paude sync` command) through two files in its state directory:
// "status.json", rewritten as the state changes, and "control", a Unix
// socket in a 0700 directory that takes one command per connection
// ("flush" or "once") and answers "ok" or "error: <message>".

const (
	statusFile  = "status.json"
	controlFile = "control"
)

type statusRecord struct {
	PID     int       `json:"pid"`
	Updated time.Time `json:"updated"`
	Status  Status    `json:"status"`
}

// StateDirFor is the directory where the native engine keeps the state of
// a session ("" cacheDir: $XDG_CACHE_HOME/paude/sync or
// ~/.cache/paude/sync, on macOS too).
func StateDirFor(cacheDir, sessionID string) (string, error) {
	if !sessionIDPattern.MatchString(sessionID) {
		return "", fmt.Errorf("session id %q cannot name a sync state directory", sessionID)
	}
	if cacheDir == "" {
		base, err := hostpath.Cache.Dir()
		if err != nil {
			return "", fmt.Errorf("no cache directory for sync state: %w", err)
		}
		cacheDir = filepath.Join(base, "paude", "sync")
	}
	return filepath.Join(cacheDir, sessionID), nil
}

// ReadStatus returns the status a native engine last wrote for the
// session. A status left by a process that is gone reads as stopped.
func ReadStatus(cacheDir, sessionID string) (Status, error) {
	dir, err := StateDirFor(cacheDir, sessionID)
	if err != nil {
		return Status{}, err
	}
	b, err := os.ReadFile(filepath.Join(dir, statusFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, fmt.Errorf("no sync has run for session %s on this machine", sessionID)
	}
	if err != nil {
		return Status{}, err
	}
	var rec statusRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return Status{}, fmt.Errorf("unreadable sync status %s: %w", filepath.Join(dir, statusFile), err)
	}
	if rec.Status.State != StateStopped && rec.Status.State != StateFailed && !alive(rec.PID) {
		rec.Status.State = StateStopped
		rec.Status.Err = "the paude process that ran this sync is gone"
	}
	return rec.Status, nil
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Control sends a command ("flush" or "once") to the native engine running
// the session in another process and waits for it to finish.
func Control(ctx context.Context, cacheDir, sessionID, command string) error {
	dir, err := StateDirFor(cacheDir, sessionID)
	if err != nil {
		return err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", filepath.Join(dir, controlFile))
	if err != nil {
		return fmt.Errorf("no sync is running for session %s here: %w", sessionID, err)
	}
	defer func() { _ = c.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := fmt.Fprintln(c, command); err != nil {
		return err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("sync did not answer %q: %w", command, err)
	}
	reply = strings.TrimSpace(reply)
	if msg, ok := strings.CutPrefix(reply, "error: "); ok {
		return errors.New(msg)
	}
	if reply != "ok" {
		return fmt.Errorf("unexpected answer %q from sync", reply)
	}
	return nil
}

// writeStatus records the status for ReadStatus; failures are ignored
// (status is informational).
func (n *Native) writeStatus() {
	rec := statusRecord{PID: os.Getpid(), Updated: time.Now(), Status: n.Status()}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return
	}
	if err := os.MkdirAll(n.stateDir, 0o700); err != nil {
		return
	}
	tmp := filepath.Join(n.stateDir, "."+statusFile)
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, filepath.Join(n.stateDir, statusFile))
	}
}

// serveControl answers Control until ctx ends.
func (n *Native) serveControl(ctx context.Context) {
	if err := os.MkdirAll(n.stateDir, 0o700); err != nil {
		n.warn("no control socket: " + err.Error())
		return
	}
	path := filepath.Join(n.stateDir, controlFile)
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		n.warn(fmt.Sprintf("no control socket for `sync --flush` (%v): flush from this process only", err))
		return
	}
	go func() {
		<-ctx.Done()
		_ = l.Close()
		_ = os.Remove(path)
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go n.answer(ctx, c)
		}
	}()
}

func (n *Native) answer(ctx context.Context, c net.Conn) {
	defer func() { _ = c.Close() }()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return
	}
	switch strings.TrimSpace(line) {
	case "flush":
		err = n.Flush(ctx)
	case "once":
		err = n.Once(ctx)
	default:
		err = fmt.Errorf("unknown command %q: use flush or once", strings.TrimSpace(line))
	}
	if err != nil {
		_, _ = fmt.Fprintf(c, "error: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	_, _ = fmt.Fprintln(c, "ok")
}
