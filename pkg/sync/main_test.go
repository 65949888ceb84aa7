package sync_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
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
		if dir := os.Getenv("PAUDE_SYNC_HELPER_CPUPROFILE"); dir != "" {
			// Profile the helper too: go tool pprof <test binary> <file>.
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("helper-%s-%d.prof", os.Args[2], os.Getpid())))
			if err == nil {
				_ = pprof.StartCPUProfile(f)
			}
		}
		if err := agent.Run(context.Background(), os.Args[2:], os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "sync helper:", err)
			pprof.StopCPUProfile()
			os.Exit(1)
		}
		pprof.StopCPUProfile()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
