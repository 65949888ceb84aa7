// Package sync keeps the user's workspace and a session's copy of it in
// step, for sessions whose workspace is not a bind mount (OpenShift and
// Kubernetes pods start on an empty volume).
//
// A Syncer is chosen by New from sync.method: "devspace" runs the
// DevSpace CLI, "native" runs paude's own engine, "auto" prefers DevSpace
// when its CLI is on PATH and falls back to native (only an
// *UnavailableError falls through, with one WARNING line). The native
// engine is always available.
//
// # The native engine
//
// The helper in the session is the paude binary itself, run as
// `<HelperPath> __sync-agent recv` (applies what the host pushes) and
// `<HelperPath> __sync-agent watch` (reports what changes in the session
// and answers the host's requests): one long-lived exec stream per
// direction over remote.Executor, never an exec per change. The byte
// format is in package wire; the helper in package agent.
//
// The first sync of a session pushes the local tree as one streamed batch
// (local wins, as DevSpace's preferLocal; paths only the session has are
// pulled). Later starts reconcile three ways against the index of the last
// synced state, kept in <CacheDir>/<SessionID>/index: a side that changed
// wins over one that did not; a path changed on both sides keeps the local
// version and the session's is saved beside it as
// "<name>.paude-conflict-<pod>-<time>" (never synced) and reported in
// Status. Afterwards fsnotify on both sides feeds changes, batched for at
// most 50ms (10ms of quiet ends a batch sooner); deletes propagate, and a
// path that disappears while another with the same inode appears is sent
// as a rename. Every push carries the state the host last saw on the
// session's side, and the helper applies it only if that still holds, so
// a change made in the session meanwhile becomes a conflict, never a lost
// write. File content streams through; nothing holds a whole file in
// memory.
//
// # What crosses, and what never does
//
// ".git" never crosses in either direction (git crosses the boundary as a
// fetch of the agent's commits); sync.exclude patterns (gitignore syntax;
// DefaultExcludes when unset) apply both ways; only regular files,
// directories and symlinks are synced. A local symlink is sent as a
// symlink, never followed, even when it leaves the workspace.
//
// Everything that comes back from the session is untrusted: the agent may
// replace the helper. Package guard lists and enforces the rules (paths,
// .git, kinds, mode bits, sizes, rates, symlinks, case collisions); all
// local reads and writes go through directory descriptors with O_NOFOLLOW
// (package tree), never through a symlinked parent. Refused records are
// reported in Status.Refused with the rule that refused them.
package sync
