package plugin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
)

// fakeBackend records every call, in order, as one line each.
type fakeBackend struct {
	typ        backend.Type
	sessions   []backend.Session
	attachCode int
	startErr   error
	calls      []string
	// onList, when set, runs before each ListSessions answers, with
	// the call's number (1 for the first).
	onList func(n int)
	lists  int
}

func (f *fakeBackend) Type() backend.Type { return f.typ }

func (f *fakeBackend) StartSession(_ context.Context, o backend.SessionSpec) (*backend.Session, error) {
	f.calls = append(f.calls, fmt.Sprintf("start workspace=%s yolo=%v allow-network=%v rebuild=%v args=%q",
		o.Workspace, o.Yolo, o.AllowNetwork, o.Rebuild, o.AgentArgs))
	if f.startErr != nil {
		return nil, f.startErr
	}
	return &backend.Session{ID: "1700000000-00000001", Status: backend.StatusRunning, Workspace: o.Workspace}, nil
}

func (f *fakeBackend) AttachSession(_ context.Context, id string, _ genericiooptions.IOStreams) (int, error) {
	f.calls = append(f.calls, "attach "+id)
	return f.attachCode, nil
}

func (f *fakeBackend) StopSession(_ context.Context, id string) error {
	f.calls = append(f.calls, "stop "+id)
	return nil
}

func (f *fakeBackend) ListSessions(context.Context) ([]backend.Session, error) {
	f.calls = append(f.calls, "list")
	f.lists++
	if f.onList != nil {
		f.onList(f.lists)
	}
	return f.sessions, nil
}

// fakeAllStopper adds StopAll.
type fakeAllStopper struct{ *fakeBackend }

func (f fakeAllStopper) StopAll(context.Context) error {
	f.calls = append(f.calls, "stop-all")
	return nil
}

// runResult is what one command invocation produced.
type runResult struct {
	out, errOut string
	code        int
	backendType backend.Type
	built       bool
}

// runCmd runs the command tree with args against b, in dir (when set).
func runCmd(t *testing.T, flavor Flavor, b backend.Backend, dir string, args ...string) runResult {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var in, out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: &in, Out: &out, ErrOut: &errOut}
	root := NewRootOptions(streams, flavor)
	var res runResult
	root.NewBackend = func(_ *RootOptions, typ backend.Type) (backend.Backend, error) {
		res.built, res.backendType = true, typ
		if b == nil {
			return nil, &backend.UnavailableError{Backend: typ, Reason: "not in this test"}
		}
		return b, nil
	}
	cmd := NewRootCmdWithOptions(root)
	cmd.SetArgs(args)
	err := cmd.Execute()
	res.code = ExitCode(err, &errOut)
	res.out, res.errOut = out.String(), errOut.String()
	return res
}

// emptyWorkspace returns a temp dir with no configuration file.
func emptyWorkspace(t *testing.T) string {
	t.Helper()
	return t.TempDir()
}

// writeFile writes a file under dir.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(dir+"/"+name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func calls(f *fakeBackend) string { return strings.Join(f.calls, "\n") }

// DryRun writes a marker, so tests can see the command tree used it.
func (f *fakeBackend) DryRun(_ context.Context, o backend.SessionSpec, out io.Writer) error {
	_, err := fmt.Fprintf(out, "FAKE STEPS for %s\n", o.Workspace)
	return err
}
