package gitboundary

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/remote"
)

// attack is one hostile session (or workspace) the fetch faces.
type attack struct {
	ws      string // host workspace
	s       *session
	marker  string // planted commands append "<side> <name> <args>" here
	plant   string // the planted command
	exec    remote.Executor
	fetcher Fetcher
}

// template reads testdata/hostile/name with its placeholders filled.
func (a *attack) template(t *testing.T, name string, extra ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "hostile", name))
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer(append([]string{"@MARKER@", a.marker, "@PLANT@", a.plant}, extra...)...)
	return r.Replace(string(b))
}

// plantHooks writes the planted command as every hook in dir.
func (a *attack) plantHooks(t *testing.T, dir string) {
	t.Helper()
	for _, h := range []string{
		"pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-checkout", "post-merge",
		"pre-push", "pre-receive", "update", "post-receive", "post-update", "reference-transaction",
		"push-to-checkout", "pre-auto-gc", "post-rewrite", "fsmonitor-watchman", "post-index-change",
	} {
		writeFile(t, dir, h, a.template(t, "plant.sh"), 0o755)
	}
}

// markerLines are the planted command's records so far.
func (a *attack) markerLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(a.marker)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// ranOn reports whether the planted command recorded a run on side.
func (a *attack) ranOn(t *testing.T, side string) bool {
	t.Helper()
	for _, l := range a.markerLines(t) {
		if strings.HasPrefix(l, side+" ") {
			return true
		}
	}
	return false
}

// commitObject writes a commit of tree with raw content into the
// session's repository and points refs/heads/<branch> at it.
func (a *attack) badBranch(t *testing.T, branch, objType string, content []byte) {
	t.Helper()
	oid := hashObject(t, a.s.ws, objType, content)
	if objType == "tree" {
		oid = a.s.agentGit(t, "commit-tree", oid, "-m", "evil")
	}
	a.s.agentGit(t, "update-ref", "refs/heads/"+branch, oid)
}

// hashObject writes an object without git's checks, as an agent can.
func hashObject(t *testing.T, dir, objType string, content []byte) string {
	t.Helper()
	cmd := exec.Command("git", "hash-object", "-t", objType, "-w", "--stdin", "--literally")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(content)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hash-object: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// treeEntry is one raw tree entry.
func treeEntry(t *testing.T, mode, name, oid string) []byte {
	t.Helper()
	raw, err := hex.DecodeString(oid)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(mode+" "+name+"\x00"), raw...)
}

func TestFetchAttacks(t *testing.T) {
	requireGit(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, a *attack)
		// control proves the planted command is live: it runs it where it
		// may run (the session) or shows that git without paude's
		// settings runs it on the host (host true).
		control func(t *testing.T, a *attack)
		host    bool
		// wantErr is part of the error; "" means the fetch succeeds.
		wantErr string
		// wantBranches are the session's branches the host has afterwards
		// (refs/remotes/paude/<id>/...), in order.
		wantBranches []string
		// maySkip are the refs that may be listed as skipped: git's own
		// client drops some invalid names before paude sees them.
		maySkip []string
	}{
		{
			name:         "control: an honest session",
			setup:        func(*testing.T, *attack) {},
			wantBranches: []string{"main", "topic"},
		},
		{
			name:  "hooks in the session's git directory",
			setup: func(t *testing.T, a *attack) { a.plantHooks(t, filepath.Join(a.s.ws, ".git", "hooks")) },
			control: func(t *testing.T, a *attack) {
				a.s.agentGit(t, "commit", "-q", "--allow-empty", "-m", "runs pre-commit")
			},
			wantBranches: []string{"main", "topic"},
		},
		{
			name: "hostile configuration in the session",
			setup: func(t *testing.T, a *attack) {
				hooks := filepath.Join(a.s.root, "hooks")
				a.plantHooks(t, hooks)
				inc := filepath.Join(a.s.root, "included")
				writeFile(t, a.s.root, "included", a.template(t, "included-config", "@HOOKS@", hooks), 0o644)
				cfg := filepath.Join(a.s.ws, ".git", "config")
				b, _ := os.ReadFile(cfg)
				writeFile(t, a.s.ws, ".git/config", string(b)+a.template(t, "session-config", "@INCLUDE@", inc), 0o644)
				writeFile(t, a.s.ws, ".git/info/attributes", "* filter=evil diff=evil\n", 0o644)
			},
			// The planted fsmonitor speaks no protocol: status fails after running it.
			control:      func(t *testing.T, a *attack) { _, _ = a.s.tryGit("status", "--porcelain") },
			wantBranches: []string{"main", "topic"},
		},
		{
			name: "commondir pointing at another repository",
			setup: func(t *testing.T, a *attack) {
				evil := filepath.Join(a.s.root, "evil.git")
				git(t, a.s.root, "clone", "-q", "--bare", filepath.Join(a.s.ws, ".git"), evil)
				git(t, evil, "branch", "from-commondir", "main")
				a.plantHooks(t, filepath.Join(evil, "hooks"))
				b, _ := os.ReadFile(filepath.Join(evil, "config"))
				writeFile(t, evil, "config", string(b)+"[core]\n\tfsmonitor = "+a.plant+"\n\tbare = false\n", 0o644)
				writeFile(t, a.s.ws, ".git/commondir", evil+"\n", 0o644)
			},
			control:      func(t *testing.T, a *attack) { _, _ = a.s.tryGit("status", "--porcelain") },
			wantBranches: []string{"from-commondir", "main", "topic"},
		},
		{
			name: "a tree with a .git entry",
			setup: func(t *testing.T, a *attack) {
				blob := hashObject(t, a.s.ws, "blob", []byte(a.template(t, "plant.sh")))
				a.badBranch(t, "evil", "tree", treeEntry(t, "100755", ".git", blob))
			},
			wantErr: "hasDotgit",
		},
		{
			name: "a .gitmodules whose URL is an option",
			setup: func(t *testing.T, a *attack) {
				blob := hashObject(t, a.s.ws, "blob", []byte(a.template(t, "gitmodules")))
				a.badBranch(t, "evil", "tree", treeEntry(t, "100644", ".gitmodules", blob))
			},
			wantErr: "gitmodulesUrl",
		},
		{
			name: "a commit without an author",
			setup: func(t *testing.T, a *attack) {
				tree := a.s.agentGit(t, "rev-parse", "HEAD^{tree}")
				a.badBranch(t, "evil", "commit", []byte("tree "+tree+"\ncommitter A <a@b> 0 +0000\n\nno author\n"))
			},
			wantErr: "missingAuthor",
		},
		{
			name: "a tree with a .. entry",
			setup: func(t *testing.T, a *attack) {
				blob := hashObject(t, a.s.ws, "blob", []byte("x"))
				a.badBranch(t, "evil", "tree", treeEntry(t, "100644", "..", blob))
			},
			wantErr: "hasDotdot",
		},
		{
			name: "a branch at a blob",
			setup: func(t *testing.T, a *attack) {
				// update-ref refuses; the agent writes the ref file itself.
				blob := hashObject(t, a.s.ws, "blob", []byte("just data"))
				writeFile(t, a.s.ws, ".git/refs/heads/blob", blob+"\n", 0o644)
			},
			wantBranches: []string{"blob", "main", "topic"},
		},
		{
			name: "a shallow session",
			setup: func(t *testing.T, a *attack) {
				writeFile(t, a.s.ws, ".git/shallow", a.s.agentGit(t, "rev-parse", "HEAD~1")+"\n", 0o644)
			},
			// The host has the history; the commits are its own.
			wantBranches: []string{"main", "topic"},
		},
		{
			name: "advertised names paude refuses",
			setup: func(t *testing.T, a *attack) {
				a.exec = &hostileExec{inner: a.s.exec, advertise: injectRefs(
					[2]string{"", "refs/heads/../../x"},
					[2]string{"", "refs/heads/red\x1b[31m"},
					[2]string{"", "refs/heads/\u202eevil"},
					[2]string{"", "refs/heads/HEAD"},
					[2]string{"", "refs/heads/x.lock"},
					[2]string{"", "refs/heads/.hidden"},
					[2]string{"", "refs/heads/a b"},
					[2]string{"", "refs/heads/" + strings.Repeat("x", 300)},
					[2]string{"", "refs/remotes/origin/ignored"},
					[2]string{"", "refs/notes/ignored"},
					[2]string{"", "refs/heads/injected-ok"},
				)}
			},
			wantBranches: []string{"injected-ok", "main", "topic"},
			maySkip: []string{
				"refs/heads/../../x", `"refs/heads/red\x1b[31m"`, `"refs/heads/\u202eevil"`, "refs/heads/HEAD",
				"refs/heads/x.lock", "refs/heads/.hidden", "refs/heads/a b", "refs/heads/" + strings.Repeat("x", 300),
			},
		},
		{
			name: "a name that forges a second ls-remote line",
			setup: func(t *testing.T, a *attack) {
				oid := a.s.agentGit(t, "rev-parse", "HEAD")
				a.exec = &hostileExec{inner: a.s.exec, advertise: injectRefs([2]string{"", "refs/heads/a\n" + oid + "\trefs/heads/forged"})}
			},
			// Git drops the name (it has a control character), so nothing
			// is forged; a git that printed it would fail the fetch on the
			// forged name, which the session does not have.
			wantBranches: []string{"main", "topic"},
		},
		{
			name: "more refs than paude fetches",
			setup: func(t *testing.T, a *attack) {
				a.fetcher.MaxRefs = 100
				a.exec = &hostileExec{inner: a.s.exec, advertise: injectRefs(manyRefs(200)...)}
			},
			wantErr: "more than the 100 paude fetches",
		},
		{
			name: "an endless advertisement",
			setup: func(t *testing.T, a *attack) {
				old := maxAdvertisement
				maxAdvertisement = 1 << 20
				t.Cleanup(func() { maxAdvertisement = old })
				a.exec = &hostileExec{replace: endless}
			},
			wantErr: "more than 1 MiB of refs",
		},
		{
			name: "an error message with terminal escapes",
			setup: func(t *testing.T, a *attack) {
				a.exec = &hostileExec{replace: func(w io.Writer) {
					writePkt(w, "ERR \x1b]52;c;Y29tcHJvbWlzZWQ=\x07\x1b[2Jgotcha\n")
				}}
			},
			wantErr: "gotcha",
		},
		{
			name:    "an upload-pack that exits at once",
			setup:   func(t *testing.T, a *attack) { a.exec = &hostileExec{replace: func(io.Writer) {}} },
			wantErr: "Could not read from remote repository",
		},
		{
			name: "core.hooksPath names a directory in the workspace",
			setup: func(t *testing.T, a *attack) {
				git(t, a.ws, "config", "core.hooksPath", ".husky")
				a.plantHooks(t, filepath.Join(a.ws, ".husky"))
			},
			control: func(t *testing.T, a *attack) {
				git(t, a.ws, "fetch", "-q", filepath.Join(a.s.ws, ".git"), "main:refs/control/main")
			},
			host:         true,
			wantBranches: []string{"main", "topic"},
		},
		{
			name: "core.fsmonitor names a script in the workspace",
			setup: func(t *testing.T, a *attack) {
				writeFile(t, a.ws, "tools/fsmonitor", a.template(t, "plant.sh"), 0o755)
				git(t, a.ws, "config", "core.fsmonitor", filepath.Join(a.ws, "tools/fsmonitor"))
			},
			control: func(t *testing.T, a *attack) {
				cmd := exec.Command("git", "status", "--porcelain")
				cmd.Dir = a.ws
				_ = cmd.Run()
			},
			host:         true,
			wantBranches: []string{"main", "topic"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws, s := seeded(t)
			s.agentGit(t, "commit", "-q", "--allow-empty", "-m", "agent")
			a := &attack{ws: ws, s: s, marker: filepath.Join(t.TempDir(), "marker"), exec: s.exec}
			a.plant = filepath.Join(t.TempDir(), "plant")
			writeFile(t, filepath.Dir(a.plant), "plant", a.template(t, "plant.sh"), 0o755)
			tc.setup(t, a)
			meta, objects := gitSnapshot(t, ws)

			res, err := a.fetcher.Fetch(context.Background(), openRepo(t, ws), testSession, SessionRepo{Exec: a.exec, Workspace: s.ws})

			if a.ranOn(t, "host") {
				t.Fatalf("a planted command ran on the host: %q", a.markerLines(t))
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("fetch failed: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
			case err != nil && hasControl(err.Error()):
				t.Fatalf("error holds control characters: %q", err.Error())
			}
			var out bytes.Buffer
			if _, werr := res.WriteTo(&out); werr != nil || hasControl(out.String()) {
				t.Fatalf("summary %q %v", out.String(), werr)
			}
			// Only objects and this session's refs reach the host's .git.
			assertOnlyRefsAndObjects(t, ws, meta, objects, nil)
			branches := git(t, ws, "for-each-ref", "--format=%(refname:lstrip=4)", "refs/remotes/paude/"+testSession)
			if got, want := branches, strings.Join(tc.wantBranches, "\n"); got != want {
				t.Fatalf("host has branches %q, want %q", got, want)
			}
			for _, sk := range res.Skipped {
				if !slices.Contains(tc.maySkip, sk.Ref) {
					t.Fatalf("skipped %q (%s), not one of %q", sk.Ref, sk.Reason, tc.maySkip)
				}
			}

			if tc.control != nil {
				side := "session"
				if tc.host {
					side = "host"
				}
				tc.control(t, a)
				if !a.ranOn(t, side) {
					t.Fatalf("control: the planted command did not run on the %s: %q", side, a.markerLines(t))
				}
			}
		})
	}
}

// TestFetchNoSubmoduleRecursion: the agent's commits move a submodule's
// gitlink, which makes a plain `git fetch` fetch that submodule from its
// configured remote (the network, or here a planted transport). Paude's
// fetch never recurses; it fetches the submodule from the session only.
func TestFetchNoSubmoduleRecursion(t *testing.T) {
	requireGit(t)
	lib := newHostRepo(t)
	ws := filepath.Join(t.TempDir(), "super")
	git(t, filepath.Dir(ws), "init", "-q", ws)
	git(t, ws, "-c", "protocol.file.allow=always", "submodule", "add", "-q", lib, "lib")
	git(t, ws, "commit", "-qm", "add lib")
	s := newSession(t, ws)
	if err := Seed(context.Background(), openRepo(t, ws), s.repo()); err != nil {
		t.Fatal(err)
	}
	a := &attack{ws: ws, s: s, marker: filepath.Join(t.TempDir(), "marker")}
	a.plant = filepath.Join(t.TempDir(), "plant")
	writeFile(t, filepath.Dir(a.plant), "plant", a.template(t, "plant.sh"), 0o755)
	git(t, filepath.Join(ws, "lib"), "remote", "set-url", "origin", "ext::"+a.plant)
	git(t, filepath.Join(s.ws, "lib"), "commit", "-q", "--allow-empty", "-m", "agent: lib")
	s.agentGit(t, "commit", "-qam", "agent: bump lib")

	if _, err := (Fetcher{}).Fetch(context.Background(), openRepo(t, ws), testSession, s.repo()); err != nil {
		t.Fatal(err)
	}
	if a.ranOn(t, "host") {
		t.Fatalf("the submodule's remote was fetched: %q", a.markerLines(t))
	}
	// Control: git's own recursion reaches the submodule's remote.
	cmd := exec.Command("git", "-c", "protocol.ext.allow=always", "fetch", "-q", "--recurse-submodules=yes", filepath.Join(s.ws, ".git"), "main:refs/control/main")
	cmd.Dir = ws
	_ = cmd.Run() // the planted transport is no git server: the fetch fails after running it
	if !a.ranOn(t, "host") {
		t.Fatalf("control: recursion did not reach the submodule's remote: %q", a.markerLines(t))
	}
}
