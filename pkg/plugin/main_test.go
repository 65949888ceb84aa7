package plugin

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
)

// interruptedBackend is a start that is still working when a signal
// comes: it sends the signal to this process, then waits for its context
// to end and undoes what it "created", as the real backends do.
type interruptedBackend struct {
	fakeBackend
	sig    syscall.Signal
	undone bool
}

func (b *interruptedBackend) StartSession(ctx context.Context, _ backend.SessionSpec) (*backend.Session, error) {
	if err := syscall.Kill(syscall.Getpid(), b.sig); err != nil {
		return nil, err
	}
	<-ctx.Done()
	b.undone = true
	return nil, fmt.Errorf("failed to build the workspace image: %w", ctx.Err())
}

func TestMainSignalCancelsTheCommand(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{
		{syscall.SIGINT, 130, "SIGINT"},
		{syscall.SIGTERM, 143, "SIGTERM"},
		{syscall.SIGHUP, 129, "SIGHUP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(emptyWorkspace(t))
			var out, errOut bytes.Buffer
			root := NewRootOptions(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, Standalone)
			b := &interruptedBackend{fakeBackend: fakeBackend{typ: backend.Podman}, sig: tc.sig}
			root.NewBackend = func(*RootOptions, backend.Type) (backend.Backend, error) { return b, nil }

			// Were the signal not caught, it would end the test binary.
			code := run(root, []string{"--backend=podman"})
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, errOut.String())
			}
			if !b.undone {
				t.Error("the start did not see its context cancelled")
			}
			want := "error: interrupted by " + tc.name + ": failed to build the workspace image: context canceled"
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("stderr %q does not contain %q", errOut.String(), want)
			}
		})
	}
}

func TestMainWithoutSignal(t *testing.T) {
	t.Chdir(emptyWorkspace(t))
	var out, errOut bytes.Buffer
	root := NewRootOptions(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut}, Standalone)
	if code := run(root, []string{"version"}); code != 0 || !strings.Contains(out.String(), "paude") {
		t.Errorf("version: exit %d, out %q, err %q", code, out.String(), errOut.String())
	}
	if code := run(root, []string{"--no-such-flag"}); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}
