package podmancli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/progress"
)

// RegistryAccess is how podman talks to a registry: the credentials file
// it logs in to and pushes with, and how it checks the registry's TLS.
type RegistryAccess struct {
	// AuthFile is the private auth file (--authfile) podman login writes
	// and podman push reads; it never holds anything but this registry's
	// login.
	AuthFile string
	// CertDir holds extra CA certificates (*.crt) podman trusts for the
	// registry besides the system's (--cert-dir); "" = none.
	CertDir string
	// Insecure turns TLS verification off (--tls-verify=false).
	Insecure bool
}

func (a RegistryAccess) args() []string {
	args := []string{"--authfile", a.AuthFile}
	if a.CertDir != "" {
		args = append(args, "--cert-dir", a.CertDir)
	}
	if a.Insecure {
		args = append(args, "--tls-verify=false")
	}
	return args
}

// LoginArgs logs in to registry as user, reading the password from
// stdin: a token never appears on a command line.
func LoginArgs(registry, user string, a RegistryAccess) []string {
	args := append([]string{"login"}, a.args()...)
	return append(args, "--username", user, "--password-stdin", registry)
}

// PushArgs pushes the local image to the remote reference.
func PushArgs(local, remote string, a RegistryAccess) []string {
	args := append([]string{"push"}, a.args()...)
	return append(args, local, "docker://"+remote)
}

// Login logs podman in to registry with a token, which it reads from
// stdin, into the access's auth file. A refused login is an *ExitError
// whose Stderr is podman's message.
func Login(ctx context.Context, r Runner, registry, user, token string, a RegistryAccess) error {
	var stderr strings.Builder
	err := r.Stream(ctx, LoginArgs(registry, user, a), genericiooptions.IOStreams{
		In: strings.NewReader(token + "\n"), Out: io.Discard, ErrOut: &stderr,
	})
	return withStderr(err, stderr.String())
}

// Push pushes local to remote with the access's credentials. On a
// terminal podman draws its own bars, one per layer with its bytes (mpb,
// as paude's are), and the error it prints stays on the screen above
// paude's. Otherwise the push is a step on out (progress.For): the layer
// podman is on, and the bytes it has written, as podman says nothing of
// bytes without a terminal: its process's write counter, the layers it
// copies out of storage and sends, a measure of work done rather than of
// bytes on the wire. A failed push is an *ExitError whose Stderr is the
// end of what podman printed (the registry's own error is there).
func Push(ctx context.Context, r Runner, local, remote string, a RegistryAccess, out io.Writer) error {
	rep := progress.For(out)
	name := "Pushing " + remote[strings.LastIndexByte(remote, '/')+1:]
	if term := rep.Terminal(); term != nil {
		fmt.Fprintln(term, name)
		return r.Stream(ctx, PushArgs(local, remote, a), genericiooptions.IOStreams{Out: term, ErrOut: term})
	}
	step := rep.Start(name, progress.Bytes, 0)
	tail := &tailBuffer{max: 16 << 10}
	meter := pushMeter(step)
	w := io.MultiWriter(meter, tail)
	wctx, stop := context.WithCancel(ctx)
	var watching sync.WaitGroup
	started := func(pid int) { watching.Go(func() { watchWritten(wctx, pid, step) }) }
	err := r.Stream(WithStarted(ctx, started), PushArgs(local, remote, a), genericiooptions.IOStreams{Out: w, ErrOut: w})
	stop()
	watching.Wait()
	meter.flush()
	err = withStderr(err, tail.lastLines(3))
	step.Done(err)
	return err
}

// withStderr fills the Stderr of a streamed command's *ExitError.
func withStderr(err error, stderr string) error {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Stderr == "" {
		c := *ee
		c.Stderr = strings.TrimSpace(stderr)
		return &c
	}
	return err
}
