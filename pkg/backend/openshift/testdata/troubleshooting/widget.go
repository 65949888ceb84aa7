// Package widget is the control input of TestTroubleshootingChecker: one
// message of each kind the checker reads, and some it must skip.
package widget

import (
	"errors"
	"fmt"
	"io"
)

// WidgetError is an error struct: its Reason and Why are messages, its
// Hint is not.
type WidgetError struct {
	Name   string
	Reason string
	Why    string
	Hint   string
}

func (e *WidgetError) Error() string {
	return fmt.Sprintf("%s is not a widget %s", e.Name, e.Reason)
}

func frob(name string, out io.Writer, err error) error {
	switch name {
	case "a":
		return fmt.Errorf("cannot frobnicate widget %s: it is locked", name)
	case "b":
		return errors.New("no widget registry found")
	case "c":
		return fmt.Errorf("%w; retry with --force", err)
	case "d":
		return fmt.Errorf("failed to %s %s: %w", "frob", name, err) // a wrapper: skipped
	case "e":
		return &WidgetError{Reason: "widget spindle jammed", Hint: "oil the spindle, then retry"}
	case "f":
		return &WidgetError{Why: "pod " + name + " is gone"} // no fixed run long enough: skipped
	case "g":
		msg := fmt.Sprintf("the gadget is out of order: %s", name)
		msg += fmt.Sprintf(" (and %s)", name) // a continuation: skipped
		return errors.New(msg)
	case "h":
		return fmt.Errorf("disk is 100%% full: free some space on %s", name)
	}
	fmt.Fprintln(out, "Warning: the widget cache is stale")
	fmt.Fprintf(out, "Created widget %s, nothing to worry about\n", name) // not a diagnostic: skipped
	return nil
}
