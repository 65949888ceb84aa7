package trust

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/paude-dev/paude/pkg/termfilter"
)

// State is where a workspace's configuration stands.
type State int

// The states Check reports.
const (
	// NoConfig: the workspace has no configuration file, so paude uses its
	// defaults and no trust is needed.
	NoConfig State = iota
	// Trusted: the configuration and every build input are as trusted.
	Trusted
	// FirstUse: paude has no usable trust record for the workspace (never
	// trusted, revoked, or the record is unusable: see Status.Problem).
	FirstUse
	// Changed: something changed since the user trusted the workspace.
	Changed
)

func (s State) String() string {
	switch s {
	case NoConfig:
		return "no configuration"
	case Trusted:
		return "trusted"
	case FirstUse:
		return "not trusted yet"
	case Changed:
		return "changed since trusted"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is the result of Check.
type Status struct {
	State State
	// Workspace is the workspace's canonical path.
	Workspace string
	// ConfigPath is the configuration file, "" for NoConfig.
	ConfigPath string
	// Problem says why a stored record was not used, nil when none was
	// in the way.
	Problem error

	// root is the workspace as the caller spelled it, inputs are named
	// relative to it.
	root     string
	current  *fingerprint
	previous *record
}

// NeedsTrust reports whether the user must decide before the
// configuration is used.
func (st *Status) NeedsTrust() bool {
	return st.State == FirstUse || st.State == Changed
}

// Change is one build input that differs from what was trusted.
type Change struct {
	// Path is relative to the workspace when inside it, else absolute.
	Path string
	// What is "added", "removed" or "changed".
	What string
}

// Changes lists the inputs that differ from the trusted ones, by path;
// it is empty unless State is Changed.
func (st *Status) Changes() []Change {
	if st.State != Changed || st.previous == nil || st.current == nil {
		return nil
	}
	var out []Change
	for name, now := range st.current.Files {
		switch was, ok := st.previous.Files[name]; {
		case !ok:
			out = append(out, Change{name, "added"})
		case was != now && now == "missing":
			out = append(out, Change{name, "removed"})
		case was != now && was == "missing":
			out = append(out, Change{name, "added"})
		case was != now:
			out = append(out, Change{name, "changed"})
		}
	}
	for name := range st.previous.Files {
		if _, ok := st.current.Files[name]; !ok {
			out = append(out, Change{name, "removed"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// maxChangesShown bounds the list of changed inputs in a report.
const maxChangesShown = 40

// Report writes what the user decides on: the summary when the
// configuration is new (or trusted, with when), and for a change the
// changed inputs and a line diff of the summaries.
func (st *Status) Report(w io.Writer) error {
	var b strings.Builder
	ws := termfilter.Printable(st.Workspace)
	if st.Problem != nil {
		fmt.Fprintf(&b, "warning: %s\n", termfilter.Printable(st.Problem.Error()))
	}
	switch st.State {
	case NoConfig:
		fmt.Fprintf(&b, "%s has no configuration file: paude uses its defaults, and there is nothing to trust.\n", ws)
	case Trusted:
		fmt.Fprintf(&b, "You trusted the configuration of %s on %s:\n\n", ws, st.previous.TrustedAt.Format("2006-01-02 15:04 MST"))
		b.WriteString(st.current.Summary.Render(st.root, st.ConfigPath))
	case FirstUse:
		fmt.Fprintf(&b, "paude has not used the configuration of %s before. It was written by whoever wrote\n"+
			"this repository (or by an agent): check what it lets a session do.\n\n", ws)
		b.WriteString(st.current.Summary.Render(st.root, st.ConfigPath))
	case Changed:
		st.reportChange(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// reportChange writes the changed inputs and the diff of the summaries.
func (st *Status) reportChange(b *strings.Builder) {
	fmt.Fprintf(b, "The configuration of %s changed since you trusted it on %s.\n",
		termfilter.Printable(st.Workspace), st.previous.TrustedAt.Format("2006-01-02 15:04 MST"))
	changes := st.Changes()
	if len(changes) > 0 {
		b.WriteString("\nChanged files:\n")
		for i, c := range changes {
			if i == maxChangesShown {
				fmt.Fprintf(b, "  ... and %d more\n", len(changes)-i)
				break
			}
			fmt.Fprintf(b, "  %-8s %s\n", c.What, termfilter.Printable(c.Path))
		}
	}
	before := st.previous.Summary.Render(st.root, st.previousConfig())
	after := st.current.Summary.Render(st.root, st.ConfigPath)
	if diff := udiff.Unified("trusted", "now", before, after); diff != "" {
		b.WriteString("\nWhat it lets a session do, trusted (-) and now (+):\n")
		b.WriteString(diff)
	} else {
		b.WriteString("\nWhat it lets a session do is unchanged; only the files above differ.\n")
	}
}

// previousConfig is the trusted record's configuration file path.
func (st *Status) previousConfig() string {
	if filepath.IsAbs(st.previous.Config) {
		return st.previous.Config
	}
	return filepath.Join(st.root, filepath.FromSlash(st.previous.Config))
}
