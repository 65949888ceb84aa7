package podman

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/hostrun"
	"github.com/paude-dev/paude/pkg/podmancli"
)

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
