package hostrun

import (
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/paude-dev/paude/pkg/gitboundary"
)

// ChangeKind says how a path changed.
type ChangeKind string

// The kinds of change.
const (
	Added    ChangeKind = "added"
	Modified ChangeKind = "modified"
	Removed  ChangeKind = "removed"
)

// Change is one path that differs between two snapshots.
type Change struct {
	// Path is workspace-relative and slash-separated, as the agent named
	// it: print it with gitboundary.Display.
	Path string
	// Category is why it matters.
	Category Category
	// Kind is how it changed.
	Kind ChangeKind
}

// Report is what changed between two snapshots.
type Report struct {
	// Changes are in category order (Why), then path order.
	Changes []Change
}

// Compare lists what changed from before to after. Both must be of the
// same workspace and format.
func Compare(before, after *Snapshot) (*Report, error) {
	if before.Version != SnapshotVersion || after.Version != SnapshotVersion {
		return nil, fmt.Errorf("snapshot format %d and %d, want %d: take both with this version of paude", before.Version, after.Version, SnapshotVersion)
	}
	if before.Workspace != after.Workspace {
		return nil, fmt.Errorf("snapshots of %s and %s: compare snapshots of one workspace", before.Workspace, after.Workspace)
	}
	r := &Report{}
	for p, a := range after.Files {
		b, ok := before.Files[p]
		switch {
		case !ok:
			r.Changes = append(r.Changes, Change{Path: p, Category: a.Category, Kind: Added})
		case b.Digest != a.Digest:
			r.Changes = append(r.Changes, Change{Path: p, Category: a.Category, Kind: Modified})
		}
	}
	for p, b := range before.Files {
		if _, ok := after.Files[p]; !ok {
			r.Changes = append(r.Changes, Change{Path: p, Category: b.Category, Kind: Removed})
		}
	}
	order := map[Category]int{}
	for i, c := range categories {
		order[c] = i
	}
	sort.Slice(r.Changes, func(i, j int) bool {
		ci, cj := r.Changes[i], r.Changes[j]
		if order[ci.Category] != order[cj.Category] {
			return order[ci.Category] < order[cj.Category]
		}
		return ci.Path < cj.Path
	})
	return r, nil
}

// Empty reports whether nothing changed.
func (r *Report) Empty() bool { return len(r.Changes) == 0 }

// WriteTo prints the report: per category a line on why it matters, then
// one line per path. It prints nothing when the report is empty. The text
// has no colour and no terminal escapes (paths are shown with
// gitboundary.Display), so it reads the same on a terminal, in a pipe and
// in a log.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	if r.Empty() {
		return 0, nil
	}
	var b bytes.Buffer
	b.WriteString("Changed during the session, files that make this machine run code:\n")
	var last Category
	for _, c := range r.Changes {
		if c.Category != last {
			fmt.Fprintf(&b, "  %s: %s\n", c.Category, Why[c.Category])
			last = c.Category
		}
		fmt.Fprintf(&b, "    %-9s %s\n", c.Kind, gitboundary.Display(c.Path))
	}
	b.WriteString("Look at these changes before you run git, make, npm or your editor in this workspace.\n")
	n, err := w.Write(b.Bytes())
	return int64(n), err
}
