package sync_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/paude-dev/paude/pkg/sync/agent"
)

// TestMain lets the test binary stand in for the paude binary in the
// "session": when run as `<test binary> __sync-agent <mode>` it is the real
// helper (the same code path `paude __sync-agent` takes), and with
// PAUDE_SYNC_HOSTILE set it is a replaced, hostile helper.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == agent.Command {
		if c := os.Getenv(hostileEnv); c != "" {
			os.Exit(runHostile(c, os.Args[2]))
		}
		if err := agent.Run(context.Background(), os.Args[2:], os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "sync helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
