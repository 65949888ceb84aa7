package backend

import (
	"context"
	"io"
)

// The optional capabilities a backend may have besides Backend. The
// command tree asks for them with a type assertion, and each backend
// asserts at compile time which ones it implements, so what a backend can
// do is visible in its code.

// Setupper is a backend with one-time preparation (`setup`): checking
// access, creating what every session shares. It prints what it did to
// out.
type Setupper interface {
	Setup(ctx context.Context, out io.Writer) error
}

// Cleaner is a backend that can find and remove sessions that are over
// (`cleanup`): ended, timed out or failed. Running sessions stay. It
// prints what it removed to out.
type Cleaner interface {
	Cleanup(ctx context.Context, out io.Writer) error
}

// DryRunner is a backend that can print the exact steps, or manifests, a
// start with spec would take, without taking them (`--dry-run`).
type DryRunner interface {
	DryRun(ctx context.Context, spec SessionSpec, out io.Writer) error
}

// AllStopper is a backend whose `stop --all` also removes what sessions
// share (proxies, networks, policies), not only every session.
type AllStopper interface {
	StopAll(ctx context.Context) error
}

// CommitFetcher is a backend whose sessions work on the workspace itself
// (Podman) but have a git repository of their own: it brings the agent's
// commits into the host repository (refs/remotes/paude/<id>/*) and says
// what arrived on out. `sync` runs it; a WorkspaceCopier fetches as part
// of every sync instead.
type CommitFetcher interface {
	FetchCommits(ctx context.Context, id string, out io.Writer) error
}
