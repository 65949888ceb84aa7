package openshift

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The cluster backend's messages and docs/OPENSHIFT.md's Troubleshooting
// section are kept in step by this test: every message a user can meet
// on the cluster path must have an entry there. The messages are read
// from the code with go/parser, not listed by hand, so a new message
// without an entry fails the test.
//
// What counts as a message, in the non-test .go files of troubleDirs:
//   - the format of fmt.Errorf and the text of errors.New;
//   - the Reason and Why of an error struct literal (backend.UnavailableError,
//     backend.NotRunningError, ...): they lead the printed message, while
//     the Hint that follows is the fix, which the entry gives anyway;
//   - in an Error() method, every fmt.Sprintf the method returns or
//     assigns (the message is built there);
//   - a fmt.Sprintf assigned to a variable that errors.New then takes;
//   - a diagnostic printed to the user: a format starting "Warning:" or
//     "Note:" given to fmt.Fprintf, fmt.Fprintln or progressf.
//
// A message is known by its runs of fixed text: the text between its
// verbs (%s, %v, %w, ..., or non-constant parts of a concatenation), with
// whitespace collapsed, that are at least minFixedText long. Every such
// run must appear verbatim in the section, where the table quotes each
// message with "…" for its variable parts ("pod … failed to start: …").
// A message with no such run ("failed to %s %s%s: %w", "%s: %w") only
// wraps another one and is skipped. All runs are required, not only the
// first, so that an entry cannot quote the start of a message and leave
// out a changed ending, and a message that starts with its subject
// ("%s not allowed to ...") is still checked.

// minFixedText is the shortest fixed text that identifies a message.
const minFixedText = 12

// troubleDirs are the packages whose messages the cluster path prints:
// the backend itself, the session life both backends share, and the sync
// helper a cluster image carries. pkg/sync, pkg/gitboundary and
// pkg/plugin are not read: most of their messages are protocol detail
// wrapped by the ones here, and the plugin's are shared with Podman.
var troubleDirs = []string{".", "..", "../../helperbin"}

// troubleDoc is the document whose Troubleshooting section must list them.
const troubleDoc = "../../../docs/OPENSHIFT.md"

// troubleInternal are messages no user can meet, as the document would
// quote them, each with the reason. Keep it short: a message a user can
// meet belongs in the document.
var troubleInternal = map[string]string{
	"openshift backend needs kubeconfig flags: pass Options.ConfigFlags": "a programming error: New without ConfigFlags or Clients",
	"cannot apply …: not a kind paude manages":                           "a programming error: ServerSideApply of a type paude never builds",
	"cannot delete …: unknown kind":                                      "a programming error: deleteRef of a kind paude never lists",
	"no command to run":                                                  "a programming error: podExec with an empty argv",
	"unknown model provider …":                                           "a programming error: ProviderFor returns only the kinds AllowedDomains knows",
	"failed to generate session id: …":                                   "crypto/rand's reader does not fail (Go 1.24 and later crash instead)",
	"failed to encode …: …":                                              "json.Marshal of a typed API object cannot fail",
	"failed to render …: …":                                              "json.Marshal and JSON-to-YAML of a typed API object cannot fail",
	"failed to encode credential paths: …":                               "json.Marshal of []corev1.KeyToPath cannot fail",
	"failed to record agent arguments: …":                                "json.Marshal of a []string cannot fail",
	"failed to record sync.exclude: …":                                   "json.Marshal of a []string cannot fail",
	"failed to write the pull secret: …":                                 "json.Marshal of a map of strings cannot fail",
}

// troubleMessage is one message found in the code.
type troubleMessage struct {
	// Text is the message as the document quotes it, "…" for its
	// variable parts; Runs its fixed runs, which the section must hold.
	Text string
	Runs []string
	Pos  string // file:line
}

func TestTroubleshootingListsEveryMessage(t *testing.T) {
	section, err := troubleSection(troubleDoc)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []troubleMessage
	for _, dir := range troubleDirs {
		found, err := troubleMessagesIn(dir)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, found...)
	}
	// Without this the test would pass on a parser that finds nothing.
	if len(msgs) < 50 {
		t.Fatalf("found only %d messages in %v: the parser misses them", len(msgs), troubleDirs)
	}
	missing, used := troubleMissing(msgs, section, troubleInternal)
	for _, m := range missing {
		t.Errorf("%s: %q is not in the Troubleshooting section of docs/OPENSHIFT.md: add an entry quoting it (… for the variable parts), or list it in troubleInternal if no user can meet it", m.Pos, m.Text)
	}
	for fixed := range troubleInternal {
		if !used[fixed] {
			t.Errorf("troubleInternal lists %q, which no message has any more: remove it", fixed)
		}
	}
	t.Logf("%d messages checked against the section, %d internal", len(msgs), len(troubleInternal))
}

// TestTroubleshootingChecker is the control: the same checker on a small
// source and section finds a message that is missing, and passes when
// the section quotes it.
func TestTroubleshootingChecker(t *testing.T) {
	msgs, err := troubleMessagesIn("testdata/troubleshooting")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	slices.Sort(texts)
	want := []string{
		"Warning: the widget cache is stale",
		"cannot frobnicate widget …: it is locked",
		"disk is 100% full: free some space on …",
		"no widget registry found",
		"the gadget is out of order: …",
		"widget spindle jammed",
		"… is not a widget …",
		"…; retry with --force",
	}
	if !slices.Equal(texts, want) {
		t.Fatalf("messages found:\n%q\nwant:\n%q", texts, want)
	}
	tests := []struct {
		name    string
		doc     string
		missing []string
	}{
		{"every message listed", "complete.md", nil},
		{"two messages left out", "incomplete.md", []string{"Warning: the widget cache is stale", "widget spindle jammed"}},
		{"an entry whose ending is stale", "stale.md", []string{"cannot frobnicate widget …: it is locked"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			section, err := troubleSection(filepath.Join("testdata/troubleshooting", tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			missing, _ := troubleMissing(msgs, section, nil)
			var got []string
			for _, m := range missing {
				got = append(got, m.Text)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.missing) {
				t.Errorf("missing = %q, want %q", got, tc.missing)
			}
		})
	}
	if _, err := troubleSection("testdata/troubleshooting/nosection.md"); err == nil {
		t.Error("a document without a Troubleshooting section was accepted")
	}
}

// troubleMissing returns the messages the section lacks (a fixed run of
// theirs is not in it), and which entries of internal named a message.
func troubleMissing(msgs []troubleMessage, section string, internal map[string]string) ([]troubleMessage, map[string]bool) {
	used := map[string]bool{}
	var missing []troubleMessage
	for _, m := range msgs {
		if _, ok := internal[m.Text]; ok {
			used[m.Text] = true
			continue
		}
		for _, run := range m.Runs {
			if !strings.Contains(section, run) {
				missing = append(missing, m)
				break
			}
		}
	}
	return missing, used
}

// troubleSection is the text of a document's "## Troubleshooting"
// section, whitespace collapsed.
func troubleSection(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	_, rest, ok := strings.Cut(string(data), "\n## Troubleshooting\n")
	if !ok {
		return "", &os.PathError{Op: "find the Troubleshooting section in", Path: path, Err: os.ErrNotExist}
	}
	if end := strings.Index(rest, "\n## "); end >= 0 {
		rest = rest[:end]
	}
	return collapse(rest), nil
}

// troubleMessagesIn parses the non-test .go files of dir and returns
// their messages.
func troubleMessagesIn(dir string) ([]troubleMessage, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var msgs []troubleMessage
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			for _, e := range messageExprs(fn) {
				if runs := fixedRuns(e.template); len(runs) > 0 {
					p := fset.Position(e.pos)
					msgs = append(msgs, troubleMessage{Text: display(e.template), Runs: runs,
						Pos: filepath.Base(p.Filename) + ":" + strconv.Itoa(p.Line)})
				}
			}
		}
	}
	return msgs, nil
}
