package podman

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// fakePodmanScript is a stand-in podman binary: it prints its arguments
// and CONTAINERS_CONF, echoes stdin for "cat", and fails on request.
const fakePodmanScript = `#!/bin/sh
case "$1" in
fail) echo "out before failing"; echo "Error: $2" >&2; exit 125 ;;
cat) cat; exit 0 ;;
kill) kill -9 $$ ;;
esac
printf 'args=%s|' "$*"
printf 'conf=%s\n' "${CONTAINERS_CONF-unset}"
echo "to stderr" >&2
`

func fakePodman(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "podman")
	if err := os.WriteFile(path, []byte(fakePodmanScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExecRunner(t *testing.T) {
	ctx := context.Background()
	bin := fakePodman(t)
	t.Setenv("CONTAINERS_CONF", "/from/env.conf")

	tests := []struct {
		name    string
		runner  ExecRunner
		args    []string
		want    string
		wantErr *ExitError
	}{
		{"inherits CONTAINERS_CONF", ExecRunner{Path: bin}, []string{"ps", "-a"},
			"args=ps -a|conf=/from/env.conf\n", nil},
		{"explicit CONTAINERS_CONF wins", ExecRunner{Path: bin, ContainersConf: "/mine.conf"}, []string{"info"},
			"args=info|conf=/mine.conf\n", nil},
		{"non-zero exit carries stderr", ExecRunner{Path: bin}, []string{"fail", "no such container"},
			"out before failing\n", &ExitError{Code: 125, Stderr: "Error: no such container"}},
		{"killed by a signal", ExecRunner{Path: bin}, []string{"kill"}, "", &ExitError{Code: 137}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.runner.Run(ctx, tt.args)
			if string(out) != tt.want {
				t.Errorf("stdout = %q, want %q", out, tt.want)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ee *ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v is not an *ExitError", err)
			}
			if ee.Code != tt.wantErr.Code || ee.Stderr != tt.wantErr.Stderr || strings.Join(ee.Args, " ") != strings.Join(tt.args, " ") {
				t.Errorf("got %+v, want code %d stderr %q", ee, tt.wantErr.Code, tt.wantErr.Stderr)
			}
		})
	}
}

func TestExecRunnerStream(t *testing.T) {
	bin := fakePodman(t)
	var out, errOut bytes.Buffer
	r := ExecRunner{Path: bin}
	if err := r.Stream(context.Background(), []string{"cat"}, genericiooptions.IOStreams{In: strings.NewReader("typed"), Out: &out, ErrOut: &errOut}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "typed" {
		t.Errorf("stdin was not connected: %q", out.String())
	}
	out.Reset()
	err := r.Stream(context.Background(), []string{"fail", "x"}, genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
	if code, ok := exitCode(err); !ok || code != 125 {
		t.Fatalf("error = %v, want exit code 125", err)
	}
	if out.String() != "out before failing\n" || !strings.Contains(errOut.String(), "Error: x") {
		t.Errorf("streams: out %q err %q", out.String(), errOut.String())
	}
}

func TestExecRunnerNotFound(t *testing.T) {
	r := ExecRunner{Path: filepath.Join(t.TempDir(), "no-podman")}
	_, err := r.Run(context.Background(), []string{"info"})
	if !errors.Is(err, ErrPodmanNotFound) {
		t.Fatalf("Run error = %v, want ErrPodmanNotFound", err)
	}
	err = r.Stream(context.Background(), []string{"info"}, genericiooptions.IOStreams{})
	if !errors.Is(err, ErrPodmanNotFound) {
		t.Fatalf("Stream error = %v, want ErrPodmanNotFound", err)
	}
}

func TestExitErrorMessage(t *testing.T) {
	e := &ExitError{Args: []string{"create", "--env", "TOKEN=secret", "img"}, Code: 125, Stderr: "Error: bad"}
	if got := e.Error(); got != "podman create exited with code 125: Error: bad" {
		t.Errorf("Error() = %q", got)
	}
	if strings.Contains(e.Error(), "secret") {
		t.Error("the message leaks argument values")
	}
}
