// Package agent is the helper paude runs inside a session for the native
// sync engine: `paude __sync-agent recv` applies what the host pushes,
// `paude __sync-agent watch` reports changes in the session and answers
// the host's requests (see package wire for the byte format). It is the
// paude binary itself, so the image needs nothing extra.
//
// Nothing here is trusted by the host: the agent in the session can
// replace this helper with anything, which is why the host checks every
// record (package guard). The helper only has to be correct, not safe.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/paude-dev/paude/pkg/sync/tree"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// Command is the hidden subcommand of the paude binary that runs the
// helper; the host execs `<HelperPath> __sync-agent <mode>`.
const Command = "__sync-agent"

// Modes.
const (
	ModeRecv    = "recv"
	ModeWatch   = "watch"
	ModeVersion = "version"
)

// Config is what the host sends in its Hello.
type Config struct {
	// Root is the synced directory in the session.
	Root string `json:"root"`
	// Excludes are the sync.exclude patterns.
	Excludes []string `json:"excludes"`
	// QuietMillis and MaxMillis tune change batching (tree.WatchOptions).
	QuietMillis int `json:"quietMillis,omitempty"`
	MaxMillis   int `json:"maxMillis,omitempty"`
	// DeferWatch starts the watch helper without watches: they are placed
	// on the host's RequestWatch.
	DeferWatch bool `json:"deferWatch,omitempty"`
}

// Reply is what the helper sends back in its Hello.
type Reply struct {
	Mode string `json:"mode"`
	PID  int    `json:"pid"`
	// Polling is set when the helper could not get kernel watches.
	Polling string `json:"polling,omitempty"`
}

// Run runs the helper in the given mode (args[0]) over stdin/stdout; it
// returns when the host closes stdin or the stream breaks.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: paude %s recv|watch|version", Command)
	}
	switch args[0] {
	case ModeVersion:
		_, err := fmt.Fprintf(stdout, "paude sync protocol %d\n", wire.Version)
		return err
	case ModeRecv, ModeWatch:
	default:
		return fmt.Errorf("unknown sync helper mode %q: use recv, watch or version", args[0])
	}
	r, w := wire.NewReader(stdin), wire.NewWriter(stdout)
	cfg, err := readHello(r)
	if err != nil {
		_ = w.Error(err.Error())
		_ = w.Flush()
		return err
	}
	switch args[0] {
	case ModeRecv:
		return runRecv(ctx, cfg, r, w)
	default:
		return runWatch(ctx, cfg, r, w, stderr)
	}
}

func readHello(r *wire.Reader) (Config, error) {
	p, err := r.Expect(wire.FrameHello)
	if err != nil {
		return Config{}, fmt.Errorf("no hello from the host: %w", err)
	}
	h, err := wire.DecodeHello(p)
	if err != nil {
		return Config{}, err
	}
	if h.Version != wire.Version {
		return Config{}, fmt.Errorf("host speaks sync protocol %d, this helper %d: use the same paude version on both sides", h.Version, wire.Version)
	}
	var cfg Config
	if err := json.Unmarshal(h.Config, &cfg); err != nil {
		return Config{}, fmt.Errorf("bad helper configuration: %w", err)
	}
	if cfg.Root == "" {
		return Config{}, errors.New("no root directory configured")
	}
	if fi, err := os.Stat(cfg.Root); err != nil || !fi.IsDir() {
		return Config{}, fmt.Errorf("sync root %s is not a directory in the session", cfg.Root)
	}
	return cfg, nil
}

func sendHello(w *wire.Writer, reply Reply) error {
	b, err := json.Marshal(reply)
	if err != nil {
		return err
	}
	if err := w.Hello(wire.Hello{Version: wire.Version, Config: b}); err != nil {
		return err
	}
	return w.Flush()
}

func (c Config) watchOptions() tree.WatchOptions {
	return tree.WatchOptions{
		Quiet: time.Duration(c.QuietMillis) * time.Millisecond,
		Max:   time.Duration(c.MaxMillis) * time.Millisecond,
	}
}
