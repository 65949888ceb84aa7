// Package gitboundary is the one place where git crosses between the
// user's machine and an agent session, for both backends.
//
// The agent never writes the host's git directory. A session gets its own
// repository, seeded from the host's objects and refs only (Seed): on
// Podman a per-session volume mounted over <workspace>/.git, on a cluster
// the pod's own clone. The agent's commits come back as a real `git fetch`
// on the host (Fetcher.Fetch), speaking to `git upload-pack` in the session
// through a remote.Executor, into refs/remotes/paude/<session>/* (branches)
// and refs/paude/<session>/tags/* (tags). Fetch validates what it stores
// (transfer.fsckObjects) and paude chooses every ref it writes, so nothing
// but objects and those refs reaches the host's .git.
//
// Everything the session sends is hostile: the advertised ref names, the
// objects, the progress and error messages. Host git runs with settings that
// keep it from running anything the session controls (RunGit), and text
// from the session is made safe for a terminal before it is shown
// (Display).
package gitboundary
