package podman

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

const listNetworks = "network ls --filter label=app=paude --format json"

// networksJSON is `podman network ls --format json` for networks
// named to session IDs ("" = no session label).
func networksJSON(nets map[string]string) string {
	var items []string
	for name, id := range nets {
		labels := `"app":"paude","paude.io/role":"network"`
		if id != "" {
			labels += `,"paude.io/session-id":"` + id + `"`
		}
		items = append(items, `{"name":"`+name+`","driver":"bridge","labels":{`+labels+`}}`)
	}
	return "[" + strings.Join(items, ",") + "]"
}

// TestCleanupRemovesOnlyEndedSessions: the ended sessions are stopped as
// stop does; then the networks no session has any more are removed, and
// the proxies no remaining session is on. The running session keeps its
// network and its proxy.
func TestCleanupRemovesOnlyEndedSessions(t *testing.T) {
	const running, failed, expired = "1767323045-deadbeef", "1767321000-0000000a", "1767320000-00000001"
	f := newFake(t)
	f.on(listAgents, readTestdata(t, "ps-agents.json"), nil)
	for _, id := range []string{failed, expired} {
		f.on("container inspect --format json paude-"+id, inspectJSON("paude-"+id, "exited", 2, map[string]string{
			"app": "paude", "paude.io/role": "agent", "paude.io/session-id": id, "paude.io/proxy-config": "old"}, nil), nil)
	}
	f.on(listNetworks, networksJSON(map[string]string{"paude-net-" + running: running,
		"paude-net-1767000000-0000dead": "1767000000-0000dead", "paude-internal": ""}), nil)
	f.on(listProxy, `[{"Names":["paude-proxy-live"],"Networks":["paude-net-`+running+`","podman"]},
		{"Names":["paude-proxy-old"],"Networks":["podman"]},
		{"Names":["paude-proxy"],"Networks":["paude-internal","podman"]}]`, nil)
	f.on("rm ", "", nil)
	f.on("network ", "", nil)
	var out bytes.Buffer
	if err := newTestBackend(t, f, Options{}).Cleanup(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	// The orphaned networks come from a map: their order is podman's.
	want := []string{listAgents,
		"container inspect --format json paude-" + failed, "rm --force --ignore --volumes --time 10 paude-" + failed,
		"network disconnect paude-net-" + failed + " paude-proxy-old", "network rm paude-net-" + failed,
		"container inspect --format json paude-" + expired, "rm --force --ignore --volumes --time 10 paude-" + expired,
		"network disconnect paude-net-" + expired + " paude-proxy-old", "network rm paude-net-" + expired,
		listNetworks, listProxy}
	diffCalls(t, calls[:len(want)], want)
	rest := strings.Join(calls[len(want):], "\n")
	for _, c := range []string{
		"network disconnect paude-internal paude-proxy", "network rm paude-internal",
		"network disconnect paude-net-1767000000-0000dead paude-proxy-old", "network rm paude-net-1767000000-0000dead",
		"rm --force --ignore --volumes --time 10 paude-proxy-old", "rm --force --ignore --volumes --time 10 paude-proxy\n",
	} {
		if !strings.Contains(rest+"\n", c) {
			t.Errorf("cleanup did not run %q:\n%s", c, rest)
		}
	}
	for _, c := range []string{"paude-net-" + running + "\n", "paude-net-" + running + " ", "paude-proxy-live"} {
		if strings.Contains(rest+"\n", "rm "+c) || strings.Contains(rest, "rm --force --ignore --volumes --time 10 "+c) {
			t.Errorf("cleanup removed %q, which a running session uses:\n%s", c, rest)
		}
	}
	for _, want := range []string{
		"Removing session 1767321000-0000000a (error: agent exited with code 2)",
		"Removing session 1767320000-00000001 (stopped: idle timeout or max lifetime reached)",
		"Removing proxy paude-proxy-old, which no session uses",
		"Removing network paude-internal, whose session is gone",
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
	f.on(listNetworks, networksJSON(map[string]string{"paude-net-1767323045-deadbeef": "1767323045-deadbeef"}), nil)
	f.on(listProxy, `[{"Names":["paude-proxy-h"],"Networks":["paude-net-1767323045-deadbeef","podman"]}]`, nil)
	var out bytes.Buffer
	if err := newTestBackend(t, f, Options{}).Cleanup(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	diffCalls(t, f.Calls(), []string{listAgents, listNetworks, listProxy})
	if !strings.Contains(out.String(), "No finished or expired sessions") {
		t.Fatalf("output %q", out.String())
	}
}
