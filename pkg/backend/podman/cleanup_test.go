package podman

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCleanupRemovesOnlyEndedSessions(t *testing.T) {
	f := newFake(t)
	f.on(listAgents, readTestdata(t, "ps-agents.json"), nil)
	f.on("rm ", "", nil)
	var out bytes.Buffer
	if err := newTestBackend(t, f, Options{}).Cleanup(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	// ps-agents.json holds one running, one failed and one expired session.
	diffCalls(t, f.Calls(), []string{listAgents,
		"rm --force --ignore --volumes --time 10 paude-1767321000-0000000a paude-1767320000-00000001"})
	for _, want := range []string{
		"Removing session 1767321000-0000000a (error: agent exited with code 2)",
		"Removing session 1767320000-00000001 (stopped: idle timeout or max lifetime reached)",
		"Removed 2 session(s)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCleanupWithNothingToDo(t *testing.T) {
	f := newFake(t)
	f.on(listAgents, `[{"Names":["paude-1767323045-deadbeef"],"State":"running","Labels":{"app":"paude","paude.io/role":"agent","paude.io/session-id":"1767323045-deadbeef"}}]`, nil)
	var out bytes.Buffer
	if err := newTestBackend(t, f, Options{}).Cleanup(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	diffCalls(t, f.Calls(), []string{listAgents})
	if !strings.Contains(out.String(), "No finished or expired sessions") {
		t.Fatalf("output %q", out.String())
	}
}
