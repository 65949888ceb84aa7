// Package backend defines the contract every paude container backend
// implements: start an isolated agent session, attach to it, stop it, list
// sessions; the optional capabilities (capabilities.go) are visible as
// interfaces of their own. The Podman and OpenShift backends live in
// sub-packages; the command tree in pkg/plugin only ever talks to Backend.
package backend

import (
	"context"
	"io"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/config"
)

// Type names a backend as users spell it on the command line.
type Type string

// The backends paude knows.
const (
	Podman    Type = "podman"
	OpenShift Type = "openshift"
)

// Types lists every backend in the order --help shows them.
var Types = []Type{Podman, OpenShift}

// Status is the user-facing state of a session.
type Status string

// Session states. Error carries its reason in Session.Reason.
const (
	StatusRunning Status = "running"
	StatusPending Status = "pending"
	StatusStopped Status = "stopped"
	StatusError   Status = "error"
)

// Session is one agent session as the user sees it.
type Session struct {
	// ID is the backend-independent session ID, "<unix seconds>-<8 hex>".
	ID string
	// Status is the mapped state (running, pending, stopped, error).
	Status Status
	// Reason explains a pending or error status ("ImagePullBackOff", ...).
	Reason string
	// Workspace is the absolute host path of the project directory.
	Workspace string
	// CreatedAt is when the session was started.
	CreatedAt time.Time
	// BackendType is the backend that owns the session.
	BackendType Type
	// Network is how the agent reaches the network: NetworkProxy (only
	// through its allowlisting proxy) or NetworkOpen (--allow-network).
	Network string
}

// Network modes of a session, also the value of LabelNetworkMode.
const (
	NetworkProxy = "proxy"
	NetworkOpen  = "open"
)

// SessionSpec is everything StartSession needs to start one session,
// already validated by the command tree.
type SessionSpec struct {
	// Config is the resolved project configuration (defaults filled in).
	Config *config.Config
	// Workspace is the absolute path of the project directory.
	Workspace string
	// Image overrides the image built from Config when non-empty.
	Image string
	// AgentArgs are passed to the agent after its own arguments.
	AgentArgs []string
	// Yolo asks the agent to skip its permission prompts.
	Yolo bool
	// AllowNetwork disables the proxy and gives the agent direct egress.
	AllowNetwork bool
	// Rebuild forces image builds even when the content tag exists.
	Rebuild bool
	// Progress receives human progress lines for long steps.
	Progress io.Writer
}

// Backend is the seam between the command tree and a container platform.
// Every method takes the caller's context first and returns a typed error
// from this package (ErrSessionNotFound, *UnavailableError, ...) where one
// applies, so the command tree can word the message and the exit code.
type Backend interface {
	// Type reports which backend this is.
	Type() Type
	// StartSession builds what is needed, starts the agent detached inside
	// tmux and returns the new session. A start that fails removes every
	// object it created before returning the error.
	StartSession(ctx context.Context, spec SessionSpec) (*Session, error)
	// AttachSession connects the streams to the session's tmux (creating
	// the tmux session if it is gone) and returns the remote exit code.
	AttachSession(ctx context.Context, id string, streams genericiooptions.IOStreams) (int, error)
	// StopSession stops the session and removes its objects. A session
	// that is already gone is not an error.
	StopSession(ctx context.Context, id string) error
	// ListSessions returns the sessions this backend owns, newest first.
	ListSessions(ctx context.Context) ([]Session, error)
}
