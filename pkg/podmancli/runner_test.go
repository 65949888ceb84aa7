package podmancli

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
	if code, ok := ExitCode(err); !ok || code != 125 {
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

func TestFirstArgs(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"create", "--name", "x"}, "create"},
		{[]string{"network", "create", "--internal", "n"}, "network create"},
		{[]string{"container", "inspect", "x", "y"}, "container inspect"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := FirstArgs(tt.args); got != tt.want {
			t.Errorf("FirstArgs(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestBuildArgs(t *testing.T) {
	tests := []struct {
		name string
		got  []string
		want string
	}{
		{"image exists", ImageExistsArgs("paude-proxy:abc"), "image exists paude-proxy:abc"},
		{"build minimal", BuildArgs(BuildSpec{Tag: "t:1", Dockerfile: "/c/Containerfile", Context: "/c"}),
			"build --force-rm --label app=paude -t t:1 -f /c/Containerfile /c"},
		{"build rebuild with args, pull policy and platform", BuildArgs(BuildSpec{Tag: "u:2", Dockerfile: "/p/Dockerfile", Context: "/p",
			Args: map[string]string{"B": "2", "A": "x y"}, PullPolicy: "never", Platform: "linux/arm64", NoCache: true}),
			"build --pull=never --platform linux/arm64 --no-cache --force-rm --label app=paude -t u:2 -f /p/Dockerfile --build-arg A=x y --build-arg B=2 /p"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.got, " "); got != tt.want {
			t.Errorf("%s\n got: %s\nwant: %s", tt.name, got, tt.want)
		}
	}
	if got := ShellWords(Redact(BuildArgs(BuildSpec{Tag: "t", Dockerfile: "D", Context: "c",
		Args: map[string]string{"TOKEN": "s3cret x"}}))); strings.Contains(got, "s3cret") || !strings.Contains(got, "--build-arg TOKEN=<hidden>") {
		t.Errorf("redacted: %s", got)
	}
}

// TestFindPodman: on macOS podman is also found where its installers put
// it when PATH lacks that directory; elsewhere PATH alone decides.
func TestFindPodman(t *testing.T) {
	brew := filepath.Dir(fakePodman(t))
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		name, cmd, goos, want string
	}{
		{"macOS: Homebrew's podman without PATH", "podman", "darwin", filepath.Join(brew, "podman")},
		{"Linux: PATH only", "podman", "linux", ""},
		{"a path given is not looked for elsewhere", "/nonexistent/podman", "darwin", ""},
		{"no podman anywhere", "podman-remote", "darwin", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findPodman(tt.cmd, tt.goos, []string{"/nonexistent", brew})
			if tt.want == "" {
				if err == nil {
					t.Fatalf("found %q", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("findPodman = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestWrittenBytes reads a recorded /proc (podman and the child that
// pushes); without a proc file system, as on macOS, the push shows no
// bytes and nothing fails.
func TestWrittenBytes(t *testing.T) {
	tests := []struct {
		name   string
		proc   string
		pid    int
		want   int64
		wantOK bool
	}{
		{"podman and its child", filepath.Join("testdata", "proc"), 100, 1234, true},
		{"a process without children", filepath.Join("testdata", "proc"), 101, 234, true},
		{"a process that is gone", filepath.Join("testdata", "proc"), 999, 0, false},
		{"no proc file system (macOS)", t.TempDir(), 100, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := writtenBytes(tt.proc, tt.pid); got != tt.want || ok != tt.wantOK {
				t.Fatalf("writtenBytes = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
