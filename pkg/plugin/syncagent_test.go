package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/sync/agent"
	"github.com/paude-dev/paude/pkg/sync/wire"
)

// syncAgentRoot is the command tree with the sync helper added, as root.go
// is to add it.
func syncAgentRoot(in *bytes.Buffer) (*RootOptions, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	root := NewRootOptions(genericiooptions.IOStreams{In: in, Out: out, ErrOut: errOut}, Standalone)
	return root, out, errOut
}

func TestSyncAgentCommand(t *testing.T) {
	t.Run("version", func(t *testing.T) {
		root, out, _ := syncAgentRoot(&bytes.Buffer{})
		cmd := NewRootCmdWithOptions(root)
		cmd.AddCommand(NewCmdSyncAgent(root))
		cmd.SetArgs([]string{agent.Command, "version"})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "paude sync protocol") {
			t.Fatalf("out %q", out.String())
		}
	})
	t.Run("watch handshake", func(t *testing.T) {
		dir := t.TempDir()
		var in bytes.Buffer
		w := wire.NewWriter(&in)
		cfg, _ := json.Marshal(agent.Config{Root: dir})
		_ = w.Hello(wire.Hello{Version: wire.Version, Config: cfg})
		_ = w.Request(wire.Request{Kind: wire.RequestManifest, ID: 1})
		_ = w.Flush()
		root, out, errOut := syncAgentRoot(&in)
		cmd := NewRootCmdWithOptions(root)
		cmd.AddCommand(NewCmdSyncAgent(root))
		// Flags after the command are the helper's, not cobra's.
		cmd.SetArgs([]string{agent.Command, "watch"})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("%v: %s", err, errOut)
		}
		r := wire.NewReader(out)
		if _, err := r.Expect(wire.FrameHello); err != nil {
			t.Fatal(err)
		}
		p, err := r.Expect(wire.FrameStart)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := wire.DecodeStart(p); s.Kind != wire.BatchManifest || s.ID != 1 {
			t.Fatalf("reply %+v", s)
		}
	})
	t.Run("bad mode", func(t *testing.T) {
		root, _, _ := syncAgentRoot(&bytes.Buffer{})
		cmd := NewRootCmdWithOptions(root)
		cmd.AddCommand(NewCmdSyncAgent(root))
		cmd.SetArgs([]string{agent.Command, "--help"})
		if err := cmd.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "unknown sync helper mode") {
			t.Fatalf("got %v", err)
		}
	})
}
