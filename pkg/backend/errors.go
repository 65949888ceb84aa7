package backend

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSessionNotFound is wrapped by every backend when an ID names no session.
var ErrSessionNotFound = errors.New("session not found")

// NotFoundError reports an unknown session ID together with the sessions
// that do exist, so the user can pick one.
type NotFoundError struct {
	ID    string
	Known []string
	// Command is paude's command as the user typed it ("kubectl paude"),
	// for the hint; "" leaves the hint out.
	Command string
}

func (e *NotFoundError) Error() string {
	if len(e.Known) == 0 {
		if e.Command == "" {
			return fmt.Sprintf("session %q not found: there are no sessions", e.ID)
		}
		return fmt.Sprintf("session %q not found: there are no sessions; start one with '%s'", e.ID, e.Command)
	}
	return fmt.Sprintf("session %q not found: known sessions are %s", e.ID, strings.Join(e.Known, ", "))
}

// Unwrap makes errors.Is(err, ErrSessionNotFound) hold.
func (e *NotFoundError) Unwrap() error { return ErrSessionNotFound }

// UnavailableError says a backend cannot be used on this machine (a missing
// binary, no cluster credentials, ...). Hint tells the user what to do.
type UnavailableError struct {
	Backend Type
	Reason  string
	Hint    string
}

func (e *UnavailableError) Error() string {
	msg := fmt.Sprintf("%s backend unavailable: %s", e.Backend, e.Reason)
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// IsUnavailable reports whether err is (or wraps) an *UnavailableError.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}
