package backend

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/paude-dev/paude/pkg/gitboundary"
	"github.com/paude-dev/paude/pkg/sync/agent"
)

// TestMain lets the test binary stand in for paude on both sides of a
// session's copy, as the real binary does: in the "session" (a directory
// reached through remotetest.Local) it is the sync helper
// (`__sync-agent`), and on the host it is git's ext:: transport during a
// fetch (`__git-bridge`). git gets a private HOME and config, so that
// the machine's settings do not leak in.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == agent.Command {
		if err := agent.Run(context.Background(), os.Args[2:], os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "sync helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if len(os.Args) == 3 && os.Args[1] == gitboundary.BridgeCommand {
		if err := gitboundary.RunBridge(os.Args[2], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	home, err := os.MkdirTemp("", "backend-test-home-")
	if err != nil {
		panic(err)
	}
	cfg := filepath.Join(home, ".gitconfig")
	if err := os.WriteFile(cfg, []byte("[user]\n\tname = Test\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n"), 0o644); err != nil {
		panic(err)
	}
	for k, v := range map[string]string{"HOME": home, "GIT_CONFIG_GLOBAL": cfg, "GIT_CONFIG_NOSYSTEM": "1", "XDG_CACHE_HOME": filepath.Join(home, "cache")} {
		_ = os.Setenv(k, v)
	}
	code := m.Run()
	_ = os.RemoveAll(home)
	os.Exit(code)
}
