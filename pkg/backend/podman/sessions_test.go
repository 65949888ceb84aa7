package podman

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/podmancli"
)

const (
	listAgents = "ps -a --filter label=app=paude --filter label=paude.io/role=agent --format json"
	listProxy  = "ps -a --filter label=app=paude --filter label=paude.io/role=proxy --format json"
)

var agentLabelSet = map[string]string{"app": "paude", "paude.io/role": "agent", "paude.io/network": "proxy"}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestListSessions(t *testing.T) {
	f := newFake(t)
	f.on(listAgents, readTestdata(t, "ps-agents.json"), nil)
	got, err := newTestBackend(t, f, Options{}).ListSessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []backend.Session{
		{ID: "1767323045-deadbeef", Status: backend.StatusRunning, Workspace: "/src/new",
			CreatedAt: time.Unix(1767323045, 0).UTC(), BackendType: backend.Podman},
		{ID: "1767321000-0000000a", Status: backend.StatusError, Reason: "agent exited with code 2", Workspace: "/src/mid",
			CreatedAt: time.Unix(1767321000, 0), BackendType: backend.Podman},
		{ID: "1767320000-00000001", Status: backend.StatusStopped, Reason: "idle timeout or max lifetime reached",
			Workspace: "/src/old", CreatedAt: time.Unix(1767320000, 0).UTC(), BackendType: backend.Podman},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d sessions, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].CreatedAt.Equal(want[i].CreatedAt) {
			t.Errorf("session %d created %v, want %v", i, got[i].CreatedAt, want[i].CreatedAt)
		}
		got[i].CreatedAt, want[i].CreatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("session %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestListSessionsEmpty(t *testing.T) {
	f := newFake(t)
	f.on(listAgents, "[]", nil)
	got, err := newTestBackend(t, f, Options{}).ListSessions(context.Background())
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestSessionStatus(t *testing.T) {
	tests := []struct {
		state  string
		code   int
		status backend.Status
		reason string
	}{
		{"running", 0, backend.StatusRunning, ""},
		{"created", 0, backend.StatusPending, "created"},
		{"exited", 0, backend.StatusStopped, "agent exited"},
		{"exited", 124, backend.StatusStopped, "idle timeout or max lifetime reached"},
		{"exited", 143, backend.StatusStopped, "stopped"},
		{"exited", 1, backend.StatusError, "agent exited with code 1"},
		{"dead", 0, backend.StatusError, "dead"},
	}
	for _, tt := range tests {
		s, r := sessionStatus(tt.state, tt.code)
		if s != tt.status || r != tt.reason {
			t.Errorf("sessionStatus(%s, %d) = %s %q, want %s %q", tt.state, tt.code, s, r, tt.status, tt.reason)
		}
	}
}

func TestAttachWithoutTerminal(t *testing.T) {
	const id = "1767323045-deadbeef"
	f := newFake(t)
	f.on("container inspect --format json paude-"+id, inspectJSON("paude-"+id, "running", 0, agentLabelSet, nil), nil)
	// The screen is the agent's: a title and a clipboard write in it are
	// removed before it is printed.
	f.on("exec paude-"+id+" tmux capture-pane", "fake-agent \x1b]2;pwned\x07tick\x1b]52;c;ZXZpbA==\x07 7\n", nil)
	var out, errOut bytes.Buffer
	code, err := newTestBackend(t, f, Options{}).AttachSession(context.Background(), id,
		genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if out.String() != "fake-agent tick 7\n" || !strings.Contains(errOut.String(), "Not a terminal") {
		t.Errorf("out %q, errOut %q", out.String(), errOut.String())
	}
}

// TestAttachFiltersTheTerminal: what podman exec brings back from the
// session's tmux reaches the user's terminal without the sequences that
// act beyond the screen, on both of its streams; the terminal itself (In)
// goes to podman as it is.
func TestAttachFiltersTheTerminal(t *testing.T) {
	const id = "1767323045-deadbeef"
	old := isTerminal
	isTerminal = func(any) bool { return true }
	t.Cleanup(func() { isTerminal = old })
	f := newFake(t)
	f.on("container inspect --format json paude-"+id, inspectJSON("paude-"+id, "running", 0, agentLabelSet, nil), nil)
	r := f.on("exec -it -e TERM=xterm paude-"+id+" /usr/local/bin/paude-entrypoint attach", "", nil)
	r.stream = "hello\x1bPtmux;\x1b\x1b]52;c;ZXZpbA==\x07\x1b\\ \x1b]0;title\x07\x1b[1mworld\x1b[0m\n"
	in := strings.NewReader("typed")
	var out bytes.Buffer
	b := newTestBackend(t, f, Options{Getenv: func(k string) string { return map[string]string{"TERM": "xterm"}[k] }})
	code, err := b.AttachSession(context.Background(), id, genericiooptions.IOStreams{In: in, Out: &out, ErrOut: &bytes.Buffer{}})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if want := "hello \x1b[1mworld\x1b[0m\n"; out.String() != want {
		t.Errorf("the terminal got %q, want %q", out.String(), want)
	}
}

func TestAttachRestartsStoppedSession(t *testing.T) {
	const id = "1767323045-deadbeef"
	name := "paude-" + id
	f := newFake(t)
	labels := map[string]string{"app": "paude", "paude.io/role": "agent", "paude.io/network": "proxy", "paude.io/proxy-config": "h"}
	f.on("container inspect --format json "+name, inspectJSON(name, "exited", 124, labels, nil), nil).times = 1
	f.on("container inspect --format json paude-proxy-h", inspectJSON("paude-proxy-h", "exited", 0, nil, nil), nil)
	f.on("start paude-proxy-h", "", nil)
	f.on("exec paude-proxy-h bash", "", nil)
	f.on("container inspect --format json "+name, inspectJSON(name, "running", 0, labels, nil), nil)
	f.on("start "+name, "", nil)
	f.on("exec "+name+" /usr/local/bin/paude-entrypoint status", "running\n", nil)
	f.on("exec "+name+" tmux capture-pane", "screen\n", nil)
	var progress bytes.Buffer
	code, err := newTestBackend(t, f, Options{Progress: &progress}).AttachSession(context.Background(), id,
		genericiooptions.IOStreams{Out: &bytes.Buffer{}})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	diffCalls(t, f.Calls(), []string{
		"container inspect --format json " + name,
		"container inspect --format json paude-proxy-h",
		"start paude-proxy-h",
		"exec paude-proxy-h bash -c exec 3<>/dev/tcp/127.0.0.1/3128",
		"start " + name,
		"exec " + name + " /usr/local/bin/paude-entrypoint status",
		"exec " + name + " tmux capture-pane -p -t =claude:",
		"container inspect --format json " + name})
	if !strings.Contains(progress.String(), "is exited; starting it again") {
		t.Errorf("progress: %q", progress.String())
	}
}

func TestAttachUnknownSession(t *testing.T) {
	f := newFake(t)
	f.on("container inspect", "", fail(125, "Error: no such container"))
	f.on(listAgents, readTestdata(t, "ps-agents.json"), nil)
	_, err := newTestBackend(t, f, Options{}).AttachSession(context.Background(), "1-nope", genericiooptions.IOStreams{})
	var nf *backend.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, backend.ErrSessionNotFound) {
		t.Fatalf("error %v is not a NotFoundError", err)
	}
	if want := []string{"1767323045-deadbeef", "1767321000-0000000a", "1767320000-00000001"}; !reflect.DeepEqual(nf.Known, want) {
		t.Errorf("known = %q, want %q", nf.Known, want)
	}
}

func TestAttachDefaultsToLatest(t *testing.T) {
	f := newFake(t)
	f.on(listAgents, readTestdata(t, "ps-agents.json"), nil)
	f.on("container inspect --format json paude-1767323045-deadbeef",
		inspectJSON("paude-1767323045-deadbeef", "running", 0, agentLabelSet, nil), nil)
	f.on("exec paude-1767323045-deadbeef tmux capture-pane", "", nil)
	if _, err := newTestBackend(t, f, Options{}).AttachSession(context.Background(), "", genericiooptions.IOStreams{}); err != nil {
		t.Fatal(err)
	}
}

func TestWithHint(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantHint string
	}{
		{"rlimit", fail(126, "Error: runc: error setting rlimit type 7: operation not permitted"), "CONTAINERS_CONF"},
		// What podman on a Mac says when a bind mount's source is not in
		// its machine.
		{"a directory the machine does not share", fail(125, "Error: statfs /Volumes/Work/proj: no such file or directory"),
			"it must be below a directory the machine shares (see docs/PODMAN.md, macOS)"},
		{"unknown", fail(125, "Error: name is in use"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withHint(tt.err)
			if !errors.Is(got, tt.err) {
				t.Fatalf("%v does not wrap %v", got, tt.err)
			}
			if tt.wantHint == "" && got.Error() != tt.err.Error() || !strings.Contains(got.Error(), tt.wantHint) {
				t.Errorf("withHint = %v, want the hint %q", got, tt.wantHint)
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantReason string
		wantHint   string
	}{
		{"not installed", podmancli.ErrPodmanNotFound, "podman is not installed", "install Podman 4 or later"},
		{"rlimits", fail(125, "Error: crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted"),
			"podman does not work: Error: crun: setrlimit", "default_ulimits"},
		{"machine", fail(125, "Cannot connect to Podman. Please verify your connection to the Linux system using `podman system connection list`, or try `podman machine init` and `podman machine start` to manage a new Linux VM"),
			"Cannot connect", "'podman machine start' (once, before the first start: 'podman machine init')"},
		{"subuid", fail(125, "cannot find UID/GID for user u: no subuid ranges found"), "no subuid", "/etc/subuid"},
		{"other", fail(2, ""), "exit code 2", "podman info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("ps ", "", tt.err)
			_, err := newTestBackend(t, f, Options{}).ListSessions(context.Background())
			var u *backend.UnavailableError
			if !errors.As(err, &u) {
				t.Fatalf("error %v is not an UnavailableError", err)
			}
			if u.Backend != backend.Podman || !strings.Contains(u.Reason, tt.wantReason) || !strings.Contains(u.Hint, tt.wantHint) {
				t.Errorf("got %+v, want reason ~%q hint ~%q", u, tt.wantReason, tt.wantHint)
			}
		})
	}
	remote := func(t *testing.T, f *fakeRunner) *Backend {
		b := newTestBackend(t, f, Options{Getenv: func(k string) string {
			return map[string]string{"CONTAINER_HOST": "ssh://core@127.0.0.1:2222/run/podman/podman.sock"}[k]
		}})
		b.host = b.detectHost
		return b
	}
	t.Run("a remote podman is asked for rootless and CPUs", func(t *testing.T) {
		f := newFake(t)
		f.on("info", "true 6", nil)
		info := remote(t, f).hostInfo()
		if !info.Rootless || info.CPUs != 6 {
			t.Fatalf("host = %+v", info)
		}
		diffCalls(t, f.Calls(), []string{"info --format {{.Host.Security.Rootless}} {{.Host.CPUs}}"})
	})
	t.Run("garbled or failed info means this machine's defaults", func(t *testing.T) {
		for _, answer := range []error{nil, fail(125, "Cannot connect to Podman")} {
			f := newFake(t)
			f.on("info", "yes", answer)
			info := remote(t, f).hostInfo()
			if info.CPUs != runtime.NumCPU() || info.Rootless != (os.Geteuid() != 0) {
				t.Fatalf("host = %+v", info)
			}
		}
	})
	t.Run("a local podman is not asked", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("podman is local only on Linux")
		}
		f := newFake(t)
		b := newTestBackend(t, f, Options{})
		info := b.detectHost()
		if info.CPUs != runtime.NumCPU() || info.Rootless != (os.Geteuid() != 0) {
			t.Fatalf("host = %+v", info)
		}
		diffCalls(t, f.Calls(), nil)
	})
	t.Run("sessions are one podman call", func(t *testing.T) {
		f := newFake(t)
		f.on("ps ", "[]", nil)
		b := newTestBackend(t, f, Options{})
		for range 2 {
			if _, err := b.ListSessions(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		diffCalls(t, f.Calls(), []string{listAgents, listAgents})
	})
}

// sync on Podman fetches the commits of a session that exists, and names
// the sessions there are for one that does not.
func TestFetchCommits(t *testing.T) {
	f := newFake(t)
	f.on("container inspect --format json paude-1767323045-deadbeef",
		inspectJSON("paude-1767323045-deadbeef", "running", 0, agentLabelSet, nil), nil)
	f.on("container inspect", "", fail(125, "Error: no such container"))
	f.on(listAgents, readTestdata(t, "ps-agents.json"), nil)
	b := newTestBackend(t, f, Options{})
	var out bytes.Buffer
	// Without a repository of its own (no git label) there is nothing to
	// fetch, and nothing to say.
	if err := b.FetchCommits(context.Background(), "1767323045-deadbeef", &out); err != nil || out.Len() != 0 {
		t.Fatalf("FetchCommits = %v, output %q", err, out.String())
	}
	err := b.FetchCommits(context.Background(), "1-nope", &out)
	var nf *backend.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("error %v is not a NotFoundError", err)
	}
}
