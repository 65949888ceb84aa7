package image

// The agent image's runtime contract: what every image paude builds
// provides, and what both backends rely on when they run it. The
// entrypoint (containers/paude/entrypoint.sh) implements it; its header
// has the details.
const (
	// EntrypointPath is the image's entrypoint program.
	EntrypointPath = "/usr/local/bin/paude-entrypoint"
	// HomeDir is HOME of the agent's user, writable by group 0 so that
	// any UID in group 0 can use it.
	HomeDir = "/home/paude"
	// WorkDir is the image's working directory.
	WorkDir = "/workspace"
	// StateDir is where backends mount per-workspace state (setup
	// markers and logs) when they keep it in a volume of its own; it is
	// never inside the workspace.
	StateDir = "/var/lib/paude-state"
	// TmuxSession is the tmux session the entrypoint runs the agent in.
	TmuxSession = "claude"
	// DefaultUser is the image's user: UID 1000 in group 0.
	DefaultUser = "1000:0"
	// HelperPath is where a cluster session's image carries paude
	// itself, the workspace sync helper (ClusterWorkspaceRecipe).
	HelperPath = "/usr/local/bin/paude"
)

// Entrypoint modes, given as the entrypoint's only argument.
const (
	// ModeAttach attaches the caller's terminal to the agent's tmux
	// session, creating it when it is gone.
	ModeAttach = "attach"
	// ModeStatus prints "running", "exited <code>" or "none".
	ModeStatus = "status"
)

// Environment variables the entrypoint reads. Names starting with
// PAUDE_ are paude's own: a project's configuration cannot set them.
const (
	EnvWorkspace   = "PAUDE_WORKSPACE"
	EnvStateDir    = "PAUDE_STATE_DIR"
	EnvSetup       = "PAUDE_SETUP"
	EnvYolo        = "PAUDE_YOLO"
	EnvIdleTimeout = "PAUDE_IDLE_TIMEOUT"
	EnvMaxLifetime = "PAUDE_MAX_LIFETIME"
	EnvSessionID   = "PAUDE_SESSION_ID"
	// EnvWaitFile names a file the agent's pane waits for before setup
	// and the agent run: a backend that copies the workspace in after
	// the container starts creates it once the files are there.
	EnvWaitFile = "PAUDE_WAIT_FILE"
	// EnvEnvFile names a file of NUL-terminated NAME=VALUE records that
	// the entrypoint exports before anything else runs: values that no
	// command line or env file may carry (secrets, line breaks) reach
	// the agent this way byte for byte.
	EnvEnvFile = "PAUDE_ENV_FILE"
)
