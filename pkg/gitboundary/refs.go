package gitboundary

import (
	"fmt"
	"regexp"
	"strings"
)

// Where the session's refs land in the host repository. Branches become
// remote-tracking branches, so `git merge paude/<id>/main` and
// `git branch -r` work; tags go to a namespace of their own, outside
// refs/tags, so they never mix with the user's tags or get pushed by
// `git push --tags` (`git show paude/<id>/tags/v1` still finds them).
const (
	branchPrefix = "refs/remotes/paude/"
	tagPrefix    = "refs/paude/"
)

// sessionIDPattern is what a session ID must look like before it names
// refs: a DNS label, as backend.ValidateSessionID demands.
var sessionIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// refComponent is one /-separated part of a branch or tag name paude
// accepts from a session: printable ASCII without spaces and without
// git's special characters, not starting with a dot. This is stricter
// than git check-ref-format: no control characters, no Unicode look-alikes
// or bidi controls, nothing a shell or a terminal treats specially.
var refComponent = regexp.MustCompile(`^[A-Za-z0-9_+@#,=-][A-Za-z0-9._+@#,=-]*$`)

// maxRefNameLen bounds a session's branch or tag name (after refs/heads/).
const maxRefNameLen = 200

// sessionRef is a ref the session advertised and paude fetches.
type sessionRef struct {
	// Name is the ref in the session ("refs/heads/main").
	Name string
	// Local is the ref paude writes in the host repository.
	Local string
	// Short is how the user names Local ("paude/<id>/main").
	Short string
	// OID is the object the session advertised for it.
	OID string
}

// SkippedRef is a branch or tag the session has that paude did not fetch.
type SkippedRef struct {
	// Repo is the submodule's path, "" for the workspace's repository.
	Repo string
	// Ref is the ref's name in the session, made safe to print.
	Ref string
	// Reason says why it was skipped.
	Reason string
}

// mapSessionRef decides where the session's ref name lands for session
// id. ok is false for refs paude never fetches (HEAD, remote-tracking
// refs, notes, stash); reason is non-empty for a branch or tag it refuses.
func mapSessionRef(id, name string) (ref sessionRef, ok bool, reason string) {
	var short, local string
	switch {
	case strings.HasPrefix(name, "refs/heads/"):
		short = strings.TrimPrefix(name, "refs/heads/")
		local = branchPrefix + id + "/" + short
		if short == "HEAD" {
			return ref, false, "a branch named HEAD would take the place of the session's default branch"
		}
	case strings.HasPrefix(name, "refs/tags/"):
		short = "tags/" + strings.TrimPrefix(name, "refs/tags/")
		local = tagPrefix + id + "/" + short
	default:
		return ref, false, ""
	}
	if reason := checkRefName(strings.TrimPrefix(strings.TrimPrefix(name, "refs/heads/"), "refs/tags/")); reason != "" {
		return ref, false, reason
	}
	return sessionRef{Name: name, Local: local, Short: "paude/" + id + "/" + short}, true, ""
}

// checkRefName returns why a branch or tag name (without its refs/…/
// prefix) is refused, or "".
func checkRefName(n string) string {
	if len(n) > maxRefNameLen {
		return fmt.Sprintf("name longer than %d bytes", maxRefNameLen)
	}
	for c := range strings.SplitSeq(n, "/") {
		switch {
		case !refComponent.MatchString(c):
			return "name has characters paude does not accept (allowed: letters, digits and . _ - + @ # , = between slashes, not starting with a dot)"
		case strings.Contains(c, ".."), strings.HasSuffix(c, "."), strings.HasSuffix(c, ".lock"), c == "@":
			return `name has "..", ends with "." or ".lock", or is "@"`
		}
	}
	return ""
}

// advertisedRef is one line of `git ls-remote --refs`.
type advertisedRef struct {
	OID  string
	Name string
}

// parseLsRemote reads `git ls-remote --refs` output. A line that is not
// "<object id>\t<name>" is skipped with its reason: the session chose
// every byte of it.
func parseLsRemote(out []byte) (refs []advertisedRef, skipped []SkippedRef) {
	for l := range strings.SplitSeq(strings.TrimSuffix(string(out), "\n"), "\n") {
		if l == "" {
			continue
		}
		oid, name, ok := strings.Cut(l, "\t")
		if !ok || !isObjectID(oid) {
			skipped = append(skipped, SkippedRef{Ref: Display(l), Reason: "not a ref line git would print"})
			continue
		}
		refs = append(refs, advertisedRef{OID: oid, Name: name})
	}
	return refs, skipped
}
