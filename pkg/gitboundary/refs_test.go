package gitboundary

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMapSessionRef(t *testing.T) {
	const id = "1-ab"
	tests := []struct {
		name, ref   string
		local       string // "" when not fetched
		short       string
		wantRefused bool
	}{
		{name: "branch", ref: "refs/heads/main", local: "refs/remotes/paude/1-ab/main", short: "paude/1-ab/main"},
		{name: "nested branch", ref: "refs/heads/fix/issue-12_b+c@d#e,f=g", local: "refs/remotes/paude/1-ab/fix/issue-12_b+c@d#e,f=g", short: "paude/1-ab/fix/issue-12_b+c@d#e,f=g"},
		{name: "tag", ref: "refs/tags/v1.2.3", local: "refs/paude/1-ab/tags/v1.2.3", short: "paude/1-ab/tags/v1.2.3"},
		{name: "branch named tags", ref: "refs/heads/tags/x", local: "refs/remotes/paude/1-ab/tags/x", short: "paude/1-ab/tags/x"},
		{name: "HEAD is not fetched", ref: "HEAD"},
		{name: "remote-tracking refs are not fetched", ref: "refs/remotes/origin/main"},
		{name: "notes are not fetched", ref: "refs/notes/commits"},
		{name: "stash is not fetched", ref: "refs/stash"},
		{name: "paude's own refs are not fetched", ref: "refs/remotes/paude/other/main"},
		{name: "branch HEAD", ref: "refs/heads/HEAD", wantRefused: true},
		{name: "dot-dot", ref: "refs/heads/../../x", wantRefused: true},
		{name: "dot-dot inside", ref: "refs/heads/a..b", wantRefused: true},
		{name: "hidden component", ref: "refs/heads/a/.b", wantRefused: true},
		{name: "lock suffix", ref: "refs/heads/a.lock", wantRefused: true},
		{name: "trailing dot", ref: "refs/heads/a.", wantRefused: true},
		{name: "empty component", ref: "refs/heads/a//b", wantRefused: true},
		{name: "trailing slash", ref: "refs/heads/a/", wantRefused: true},
		{name: "at sign alone", ref: "refs/heads/@", wantRefused: true},
		{name: "reflog syntax", ref: "refs/heads/a@{1}", wantRefused: true},
		{name: "space", ref: "refs/heads/a b", wantRefused: true},
		{name: "escape", ref: "refs/heads/a\x1b[31m", wantRefused: true},
		{name: "newline", ref: "refs/heads/a\nb", wantRefused: true},
		{name: "bidi override", ref: "refs/heads/\u202eevil", wantRefused: true},
		{name: "look-alike letter", ref: "refs/heads/m\u0430in", wantRefused: true},
		{name: "glob", ref: "refs/heads/a*", wantRefused: true},
		{name: "colon", ref: "refs/heads/a:b", wantRefused: true},
		{name: "backslash", ref: "refs/heads/a\\b", wantRefused: true},
		{name: "too long", ref: "refs/heads/" + strings.Repeat("a", 201), wantRefused: true},
		{name: "longest", ref: "refs/heads/" + strings.Repeat("a", 200), local: "refs/remotes/paude/1-ab/" + strings.Repeat("a", 200), short: "paude/1-ab/" + strings.Repeat("a", 200)},
		{name: "empty tag", ref: "refs/tags/", wantRefused: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref, ok, reason := mapSessionRef(id, tc.ref)
			if ok != (tc.local != "") || (reason != "") != tc.wantRefused {
				t.Fatalf("ok %v reason %q", ok, reason)
			}
			if ok && (ref.Name != tc.ref || ref.Local != tc.local || ref.Short != tc.short) {
				t.Fatalf("got %+v", ref)
			}
		})
	}
}

// TestAcceptedNamesAreValidRefs: whatever paude accepts, git accepts too,
// so the policy is only ever stricter than git's.
func TestAcceptedNamesAreValidRefs(t *testing.T) {
	requireGit(t)
	for _, n := range []string{"main", "a/b/c", "x-y_z+1@2#3,4=5", "-lead", "v1.0", "a.b.c"} {
		ref, ok, _ := mapSessionRef("1-ab", "refs/heads/"+n)
		if !ok {
			t.Fatalf("%q refused", n)
		}
		if out, err := exec.Command("git", "check-ref-format", ref.Local).CombinedOutput(); err != nil {
			t.Errorf("git refuses %q: %v %s", ref.Local, err, out)
		}
	}
}

func TestParseLsRemote(t *testing.T) {
	oid := strings.Repeat("a", 40)
	out := oid + "\trefs/heads/main\n" +
		"not a line\n" +
		strings.Repeat("b", 64) + "\trefs/tags/v1\n" +
		"zz\trefs/heads/x\n" +
		oid + "\trefs/heads/with\ttab\n"
	refs, skipped := parseLsRemote([]byte(out))
	want := []advertisedRef{{oid, "refs/heads/main"}, {strings.Repeat("b", 64), "refs/tags/v1"}, {oid, "refs/heads/with\ttab"}}
	if !reflect.DeepEqual(refs, want) {
		t.Fatalf("refs %+v", refs)
	}
	if len(skipped) != 2 || skipped[0].Ref != "not a line" || skipped[1].Ref != `"zz\trefs/heads/x"` {
		t.Fatalf("skipped %+v", skipped)
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"ünïcödé 中文", "ünïcödé 中文"},
		{"red\x1b[31m", `"red\x1b[31m"`},
		{"osc\x1b]52;c;eA==\a", `"osc\x1b]52;c;eA==\a"`},
		{"\u202eevil", `"\u202eevil"`},
		{"a\tb", `"a\tb"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"c1\u009b31m", `"c1\u009b31m"`},
	}
	for _, tc := range tests {
		if got := Display(tc.in); got != tc.want {
			t.Errorf("Display(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestFetchThroughOddPaths: the bridge's path and the socket's directory
// may hold spaces and percent signs, which ext:: would otherwise split or
// expand.
func TestFetchThroughOddPaths(t *testing.T) {
	requireGit(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(t.TempDir(), "a dir %s %% %G")
	if err := os.MkdirAll(odd, 0o755); err != nil {
		t.Fatal(err)
	}
	bridge := filepath.Join(odd, "paude bridge")
	if err := os.Symlink(exe, bridge); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", odd)
	ws, s := seeded(t)
	s.agentGit(t, "commit", "-q", "--allow-empty", "-m", "agent")
	res, err := Fetcher{Bridge: []string{bridge, BridgeCommand}}.Fetch(context.Background(), openRepo(t, ws), testSession, s.repo())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updates) == 0 || git(t, ws, "rev-parse", "paude/"+testSession+"/main") != s.agentGit(t, "rev-parse", "HEAD") {
		t.Fatalf("updates %+v", res.Updates)
	}
	if entries, _ := os.ReadDir(odd); len(entries) != 1 {
		t.Fatalf("the socket's directory was left behind: %v", entries)
	}
}

func TestFetchRefusesBadSessionID(t *testing.T) {
	requireGit(t)
	ws := newHostRepo(t)
	for _, id := range []string{"", "Upper", "a/b", "../x", "a b", "-x", strings.Repeat("a", 64)} {
		_, err := Fetcher{}.Fetch(context.Background(), openRepo(t, ws), id, SessionRepo{})
		if err == nil || !strings.Contains(err.Error(), "invalid session id") {
			t.Errorf("%q: %v", id, err)
		}
	}
}
