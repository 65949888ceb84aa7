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
	"github.com/paude-dev/paude/pkg/hostrun"
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

func TestStopSession(t *testing.T) {
	const id = "1767323045-deadbeef"
	inspect := "container inspect --format json paude-" + id
	noRepo := t.TempDir()
	tests := []struct {
		name    string
		inspect string
		inspErr error
		want    []string
		wantErr string
	}{
		{"a session without network or repository is removed", inspectJSON("paude-"+id, "running", 0, agentLabelSet, nil), nil,
			[]string{inspect, "rm --force --ignore --volumes --time 10 paude-" + id}, ""},
		{"its network and repository go with it, its proxy stays", inspectJSON("paude-"+id, "exited", 0, map[string]string{
			"app": "paude", "paude.io/role": "agent", "paude.io/session-id": id, "paude.io/network": "proxy",
			"paude.io/proxy-config": "h", "paude.io/git-dir": noRepo + "/.git", "paude.io/workspace": noRepo}, nil), nil,
			[]string{inspect, "rm --force --ignore --volumes --time 10 paude-" + id,
				"network disconnect paude-net-" + id + " paude-proxy-h", "network rm paude-net-" + id,
				"volume rm --force paude-git-" + id}, ""},
		{"gone session is not an error", "", fail(125, "Error: no such container paude-"+id),
			[]string{inspect}, ""},
		{"a foreign container of that name is left alone", inspectJSON("paude-"+id, "running", 0, map[string]string{"app": "other"}, nil), nil,
			[]string{inspect}, "is not a paude session"},
		{"podman failing is an error", "", fail(125, "Error: database is locked"),
			[]string{inspect}, "database is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on(inspect, tt.inspect, tt.inspErr)
			f.on("rm ", "", nil)
			f.on("network ", "", nil)
			f.on("volume rm ", "", nil)
			err := newTestBackend(t, f, Options{}).StopSession(context.Background(), id)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			diffCalls(t, f.Calls(), tt.want)
		})
	}
	t.Run("invalid id runs nothing", func(t *testing.T) {
		f := newFake(t)
		if err := newTestBackend(t, f, Options{}).StopSession(context.Background(), "../etc"); err == nil {
			t.Fatal("no error for an invalid id")
		}
		diffCalls(t, f.Calls(), nil)
	})
}

// TestStopReportsAndKeepsUnfetchedCommits: stop reports the host-run
// files the agent changed since the start's snapshot, and a repository
// whose commits could not be fetched stays, with a line saying so.
func TestStopReportsAndKeepsUnfetchedCommits(t *testing.T) {
	const id = "1767323045-deadbeef"
	ws := t.TempDir()
	initRepo(t, ws)
	state := t.TempDir()
	var progress bytes.Buffer
	// A bridge that fails: the fetch cannot reach the session.
	b := newTestBackend(t, newFake(t), Options{StateDir: state, Progress: &progress, GitBridge: []string{"false"}})
	snap, err := hostrun.Take(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.saveSnapshot(id, snap); err != nil {
		t.Fatal(err)
	}
	mkTree(t, ws, ".envrc", ".vscode/tasks.json")
	f := newFake(t)
	f.on("container inspect --format json paude-"+id, inspectJSON("paude-"+id, "running", 0, map[string]string{
		"app": "paude", "paude.io/role": "agent", "paude.io/session-id": id, "paude.io/git-dir": ws + "/.git", "paude.io/workspace": ws}, nil), nil)
	f.on("exec -i paude-"+id+" git upload-pack", "", nil)
	f.on("rm ", "", nil)
	b.runner = podmancli.Logged(f, nil)
	if err := b.StopSession(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	out := progress.String()
	for _, want := range []string{
		"Could not fetch the commits of session " + id,
		"Changed during the session, files that make this machine run code:",
		"    added     .envrc", "    added     .vscode/tasks.json",
		"Keeping volume paude-git-" + id + ": it holds the session's repository, whose commits could not be fetched; remove it with 'podman volume rm paude-git-" + id + "'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stop said nothing like %q:\n%s", want, out)
		}
	}
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, "volume rm") {
			t.Errorf("the repository of unfetched commits was removed: %s", c)
		}
	}
	if _, err := os.Stat(b.sessionDir(id)); !os.IsNotExist(err) {
		t.Errorf("the session's host files are still there: %v", err)
	}
}

func TestStopAll(t *testing.T) {
	f := newFake(t)
	f.on(listAgents, `[{"Names":["paude-1-a"],"Labels":{"paude.io/session-id":"1-a"}},{"Names":["paude-2-b"],"Labels":{"paude.io/session-id":"2-b"}}]`, nil)
	for _, id := range []string{"1-a", "2-b"} {
		f.on("container inspect --format json paude-"+id, inspectJSON("paude-"+id, "exited", 0, map[string]string{
			"app": "paude", "paude.io/role": "agent", "paude.io/session-id": id, "paude.io/proxy-config": "h"}, nil), nil)
	}
	f.on(listProxy, `[{"Names":["paude-proxy-h"]},{"Names":["paude-proxy"]}]`, nil)
	f.on("network ls", networksJSON(map[string]string{"paude-internal": ""}), nil)
	f.on("rm ", "", nil)
	f.on("network ", "", nil)
	state := t.TempDir()
	mkTree(t, state, "proxy/squid-0123456789ab.conf")
	if err := newTestBackend(t, f, Options{StateDir: state}).StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(state, "proxy")); !os.IsNotExist(err) {
		t.Errorf("the proxy configurations are still there: %v", err)
	}
	diffCalls(t, f.Calls(), []string{listAgents,
		"container inspect --format json paude-1-a", "rm --force --ignore --volumes --time 10 paude-1-a",
		"network disconnect paude-net-1-a paude-proxy-h", "network rm paude-net-1-a",
		"container inspect --format json paude-2-b", "rm --force --ignore --volumes --time 10 paude-2-b",
		"network disconnect paude-net-2-b paude-proxy-h", "network rm paude-net-2-b",
		listProxy, "rm --force --ignore --volumes --time 10 paude-proxy-h paude-proxy",
		listNetworks, "network rm paude-internal"})

	t.Run("nothing to remove", func(t *testing.T) {
		f := newFake(t)
		f.on("ps ", "[]", nil)
		f.on("network ls", "", nil)
		if err := newTestBackend(t, f, Options{}).StopAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		diffCalls(t, f.Calls(), []string{listAgents, listProxy, listNetworks})
	})
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
	rlimit := fail(126, "Error: runc: error setting rlimit type 7: operation not permitted")
	if got := withHint(rlimit).Error(); !strings.Contains(got, "CONTAINERS_CONF") || !errors.Is(withHint(rlimit), rlimit) {
		t.Errorf("rlimit failure: %s", got)
	}
	other := fail(125, "Error: name is in use")
	if got := withHint(other); got.Error() != other.Error() {
		t.Errorf("an unknown failure got a hint: %v", withHint(other))
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
		{"machine", fail(125, "Cannot connect to Podman. Please verify your connection"), "Cannot connect", "podman machine start"},
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
