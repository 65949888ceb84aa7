package plugin

import (
	"os"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/gitboundary"
	"github.com/paude-dev/paude/pkg/sync/agent"
)

// TestMain lets the test binary be paude where a test needs the binary
// itself: as the sync helper in a "session" (`__sync-agent`) and as git's
// transport during a fetch (`__git-bridge`), both through the real
// command tree, as the built binary runs them.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == agent.Command || os.Args[1] == gitboundary.BridgeCommand) {
		streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
		os.Exit(Main(streams, Standalone, append([]string{"paude"}, os.Args[1:]...)))
	}
	os.Exit(m.Run())
}
