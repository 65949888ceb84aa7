package backend

// ClaudeHistoryDirs are the top-level directories of ~/.claude that hold
// the history, caches and logs of every project the user ever ran Claude
// Code in (transcripts, backups of edited files, shell snapshots), not
// settings or the login. No session gets them: an agent working on one
// project must not read another project's transcripts, and they would
// blow a Secret's size limit. Both backends leave them out.
var ClaudeHistoryDirs = []string{
	"projects", "todos", "statsig", "shell-snapshots", "ide", "local",
	"debug", "file-history", "session-env", "logs", "cache", "plugins",
}
