// Package sync keeps the user's workspace and a session's copy of it in
// step, for sessions whose workspace is not a bind mount (OpenShift and
// Kubernetes pods start on an empty volume).
//
// New picks a Syncer from sync.method: "native" and "auto" (the default)
// run paude's own engine (Native), which is always available; "devspace"
// runs the DevSpace CLI (DevSpace), only when the user chose it, because
// DevSpace does not check what the pod sends (it follows symlinks out of
// the sync root). Every engine gets the same excludes:
// sync.exclude (gitignore syntax; DefaultExcludes when unset) plus ".git",
// which never crosses in either direction (the agent's commits come back
// as a git fetch, not as files).
//
// # The native engine
//
// The helper in the session is the paude binary itself, at
// Options.HelperPath in the image, run as `<helper> __sync-agent recv`
// (applies what the host pushes) and `<helper> __sync-agent watch`
// (reports what changes in the session and answers the host's requests):
// one long-lived exec stream per direction over remote.Executor, never an
// exec per change. Its code is package agent.
//
// The first sync of a session (no index yet) lets local win, as
// DevSpace's preferLocal: every local path is pushed as one streamed
// batch over whatever the session has, and paths only the session has are
// pulled. Later starts reconcile three ways against the index of the last
// synced state, kept in <CacheDir>/<SessionID>/index (CacheDir defaults
// to ~/.cache/paude/sync, or $XDG_CACHE_HOME/paude/sync): a side that changed wins over one
// that did not; a path changed on both sides keeps the local version and
// saves the session's beside it as "<name>.paude-conflict-<pod>-<time>"
// (never synced, reported in Status.Conflicts). Then fsnotify on both
// sides feeds changes, batched for at most 50ms (10ms without a new event
// ends a batch sooner). Deletes propagate; a path that disappears while
// another with the same inode appears is a rename and is moved, not
// copied again. Content streams through: no file is held in memory.
//
// # Wire protocol
//
// Each stream carries frames: one type byte, a 4-byte big-endian payload
// length (at most 64 KiB, larger is a protocol violation) and the payload.
// Integers are big-endian; a string is a 4-byte length and its bytes
// (names are bytes, not necessarily UTF-8).
//
//	V hello    "paude-sync", u16 version, JSON. The host sends first
//	           (agent.Config: root, excludes, deferWatch); the helper
//	           answers (agent.Reply: mode, pid, polling).
//	Q request  u8 kind, u64 id, u32 n, n strings. Host to watch helper:
//	           1 manifest, 2 get (paths), 3 hash (paths), 4 marker,
//	           5 watch (place the watches now).
//	S start    u8 batch kind, u64 id, u32 declared item count
//	           (0xFFFFFFFF: unknown, manifests only).
//	E entry    u8 op (1 put, 2 delete, 3 rename), u8 kind (1 file, 2 dir,
//	           3 symlink, 4 hard link, 5 char device, 6 block device,
//	           7 FIFO, 8 socket), u32 mode (st_mode's low 12 bits), u64 size,
//	           i64 mtime (ns), u64 inode, string path, string target
//	           (symlink target, hard link target, or a rename's old
//	           path), then the precondition: u8 any, u8 kind (0: nothing
//	           there), u64 size, i64 mtime.
//	T trailer  u8: 0 the content is the file as stat'ed, 1 it changed
//	           while read (the receiver discards it).
//	R result   u8 flags (1 applied, 2 not applied: precondition failed),
//	           u8 kind, u32 mode, u64 size, i64 mtime, u64 inode (the
//	           object now), string path, string error.
//	H hash     string path, u8 missing, 32 bytes SHA-256.
//	B end      u64 id of the batch.
//	X error    a fatal message from the helper.
//
// A batch is S, its items, B. In apply batches (host to recv helper) and
// content batches (watch helper to host) a put-file entry is followed by
// exactly size raw bytes of content and a T frame; other entries carry
// nothing. Batch kinds: 1 apply (host → recv), 2 ack (recv → host, one R
// per applied entry, in order), 3 notify (watch → host, stat-only
// entries of changed paths; a delete entry says a path is gone), 4
// manifest (reply to 1: stat-only entries of the whole tree), 5 content
// (reply to 2: one entry per asked path, with content for files), 6
// hashes (reply to 3), 7 marker (reply to 4 once every change seen before
// it was notified, and to 5 once the watches are placed), 8 rescan (the
// helper lost events: the host reconciles).
//
// Every entry the host pushes carries the state the host last saw the
// session's object in, and the recv helper applies it only if that still
// holds; otherwise its result reports a conflict and what is there, and
// the host saves the session's version as a conflict copy before pushing
// its own. So a change made in the session is never overwritten unseen.
//
// Order of a start: both helpers are started; the local watcher is
// placed; the local tree is scanned; the watch helper places its watches
// (for a first push above 1000 files only after that push, followed by a
// second manifest that catches what changed in the session meanwhile);
// the manifest is compared; files are fetched, then pushed; the index is
// saved. Stop pushes pending local changes, asks for a marker and applies
// the notifications before it (the final pull), saves the index and closes
// the helpers' standard input.
//
// # What comes back from the session is checked
//
// The pod is hostile: the agent may replace the helper with anything. The
// host checks every entry from the session before it touches a file
// (package guard; the rule names in parentheses appear in
// Status.Refused):
//
//   - paths are relative, clean and slash-separated: no leading "/"
//     (absolute-path), no ".." (dot-dot), no "." or empty component, no
//     NUL, no component over 255 bytes, no path over 4096 (bad-name);
//   - nothing is written into, moved into or out of, or deleted from a
//     ".git" directory, top-level or nested, in any letter case or with
//     the characters HFS+ ignores, and no symlink may point into one
//     (git-dir);
//   - only regular files, directories and symlinks: hard links, devices,
//     FIFOs and sockets are refused (kind);
//   - no setuid, setgid or sticky bit (special-bits); files are created
//     0644 or 0755 (an existing file keeps its permissions, only the
//     executable bit follows the session);
//   - a file is at most Limits.MaxFileSize (file-size), a batch's content
//     at most Limits.MaxBatchBytes (batch-bytes), a batch at most
//     Limits.MaxBatchEntries entries, checked against the declared count
//     before any is read (batch-entries); entries are applied at most at
//     Limits.EntryRate per second after a burst, a faster session is
//     slowed down and reported, never obeyed at its pace (rate);
//   - nothing is written through a symlinked parent directory, inside the
//     workspace or not (symlink-ancestor): every path is walked one
//     directory at a time with openat(O_NOFOLLOW|O_DIRECTORY), and every
//     file is created with O_EXCL|O_NOFOLLOW beside its target and renamed
//     over it;
//   - a symlink is created only if its target, resolved from the link's
//     directory through the symlinks that exist now, stays in the
//     workspace (symlink-escape);
//   - with Options.CaseInsensitive (default on macOS) a name that differs
//     from another in the same directory only by case or Unicode
//     normalisation is refused (case-collision);
//   - excluded paths are refused (excluded), a reply for a path the host
//     did not ask for is refused (unrequested), and a stream that breaks
//     the framing is closed and reconnected with backoff (protocol).
//
// Local reads go through the same O_NOFOLLOW walk, so a local symlink is
// sent as a symlink, never followed, even when it leaves the workspace.
// Paths from the session are printed quoted (guard.Printable), never raw.
package sync
