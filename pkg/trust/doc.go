// Package trust decides whether a workspace's configuration may be used,
// as direnv and VS Code's workspace trust do. A cloned repository's
// paude.json or devcontainer.json was written by someone else, or edited
// by an agent; it can widen the agent's allowlist, pull host variables
// into the session with ${localEnv:...}, and run build steps. So before a
// start uses it, the user sees a summary of what it lets a session do and
// trusts it.
//
// Trust is granted to a fingerprint: the configuration file, every build
// input (the Dockerfile and each file of its build context, the
// pip_install file, ...) and the summary shown, hashed together. A record
// per workspace keeps the fingerprint, each input's hash and the summary,
// so that a later change is shown as the files that changed and a line
// diff of the summaries. Records live in the user's configuration
// directory (paude/trust/, 0700, files 0600, written atomically), never in
// the workspace; a record that cannot be read, or whose digest does not
// match its content, counts as no trust.
//
// The caller knows the configuration format and the build: it fills
// Inputs (paths and a Summary), and calls Ensure before a start, or
// Check, Report and Trust for `paude trust`.
package trust
