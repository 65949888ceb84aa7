#!/bin/bash
# paude-entrypoint: runs the coding agent inside the tmux session "claude" and
# keeps the container alive while that session exists. Installed in the agent
# image as /usr/local/bin/paude-entrypoint (the image's ENTRYPOINT).
#
# CONTRACT (pkg/image and both backends rely on it exactly)
#
# Modes
#   paude-entrypoint [--] [AGENT ARGS...]
#       Main process. Prepares the environment, creates the tmux session
#       "claude" detached (unless it already exists) running the agent in
#       PAUDE_WORKSPACE, then waits while the session exists, enforcing
#       PAUDE_IDLE_TIMEOUT and PAUDE_MAX_LIFETIME. A first argument "--" is
#       dropped, so agent arguments may themselves be "attach" or "status".
#   paude-entrypoint attach
#       Attaches the caller's terminal (a TTY is required): `tmux attach -d`
#       when the session exists, else creates it as main does (same argv and
#       directory, saved by main) and attaches.
#   paude-entrypoint status
#       Prints one line: "running", "exited <code>", or "none" when no agent
#       has run in this container yet.
#   (paude-entrypoint __run is internal: the wrapper tmux runs in the pane.)
#
# The pane's process is a wrapper: it waits for PAUDE_WAIT_FILE when that
# is set (a cluster session's files arrive by sync after the pod starts:
# neither setup nor the agent may start on an empty workspace; C-c stops
# waiting), then runs PAUDE_SETUP when needed (output
# shown in the pane and logged; C-c skips it; a failure is shown in the pane
# and on main's stderr, and the agent starts anyway), then runs the agent in
# the foreground, so the agent owns the terminal. When the agent exits, the
# wrapper saves its exit code and the pane's last screen, then ends, which
# ends the session. When the session is killed instead, the hangup ends the
# wrapper and then the agent.
#
# Environment
#   PAUDE_AGENT_CMD        agent program, looked up in PATH (set by the image)
#   PAUDE_AGENT_ARGS       arguments always passed first (set by the image):
#                          base64 of the arguments, each followed by a NUL
#   PAUDE_AGENT_YOLO_ARGS  same encoding, added after them when PAUDE_YOLO=1
#   PAUDE_YOLO             "1" adds the yolo arguments; anything else does not
#   PAUDE_WORKSPACE        directory the agent and setup run in (default: cwd)
#   PAUDE_SETUP            shell command (bash -c) run in the pane before the
#                          agent, once per (workspace, command)
#   PAUDE_STATE_DIR        setup markers and logs (default $HOME/.paude-state);
#                          refused when inside PAUDE_WORKSPACE
#   PAUDE_WAIT_FILE        when set, the pane waits until this file exists
#                          before setup and the agent run (the backend
#                          creates it once the workspace has arrived)
#   PAUDE_RUN_DIR          this container's runtime files (default /tmp/paude)
#   PAUDE_ENV_FILE         a file of NUL-terminated NAME=VALUE records, exported
#                          first in every mode: values no command line or env
#                          file may carry (secrets, line breaks) arrive this way
#                          byte for byte; names must be variable names and not
#                          start with PAUDE_
#   PAUDE_SESSION_ID       the session's ID (informational)
#   PAUDE_IDLE_TIMEOUT     seconds without tmux activity (newest of session,
#                          window and client activity) before the session is
#                          stopped; 0 or unset: never
#   PAUDE_MAX_LIFETIME     seconds after main started before the session is
#                          stopped; 0 or unset: never
#   Also: TERM defaults to xterm-256color (also replacing "dumb"), LANG to
#   C.UTF-8; HOME falls back to /home/paude, then /tmp/paude-home-<uid>, when
#   unset, "/" or not writable (as for a UID without a passwd entry); git
#   gets safe.directory=* through GIT_CONFIG_COUNT/KEY/VALUE when
#   /etc/gitconfig lacks it.
#
# Exit codes
#   main:   the agent's exit code (128+N when signal N killed it) when the
#           session ends by itself, after printing its last screen to stdout;
#           124 when PAUDE_IDLE_TIMEOUT or PAUDE_MAX_LIFETIME stopped it (a
#           line on stderr says which); 128+N when main got signal N (TERM,
#           INT, HUP) and stopped it; 1 for a bad environment (message on
#           stderr) or when the session vanished without an exit code.
#   attach: the agent's exit code when the session ended while attached (its
#           last screen is printed first), 0 when detached (C-b d), tmux's
#           own code when tmux failed, 1 for a bad environment.
#   status: 0.
#
# Files in PAUDE_RUN_DIR
#   agent.argv    the agent's argv, NUL-separated (attach recreates from it)
#   agent.dir     the directory the agent runs in
#   agent.pane    the tmux pane id running the agent
#   agent.exit    the agent's exit code (or main's 124/128+N), one line
#   agent.screen  the pane's last screen, saved when the agent exits
#   stop.reason   why main stopped the session: idle, lifetime or signal
#   setup.status  "ok" or "failed <code> <log path>" for the last setup run
set -euo pipefail

readonly SESSION=claude
readonly TARGET="=$SESSION"
SELF=$(readlink -f "${BASH_SOURCE[0]}")
readonly SELF
RUN_DIR=${PAUDE_RUN_DIR:-/tmp/paude}

log() { printf 'paude-entrypoint: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}
now() { printf '%(%s)T' -1; }

# write_file PATH CONTENT: replace PATH atomically (readers never see half).
write_file() {
	printf '%s\n' "$2" >"$1.tmp.$$"
	mv -f "$1.tmp.$$" "$1"
}

# seconds NAME: the variable NAME as a whole number of seconds.
seconds() {
	local value=${!1:-0}
	[[ $value =~ ^[0-9]{1,10}$ ]] || die "$1=\"$value\" is not a whole number of seconds: set it to e.g. 3600, or 0 for never"
	printf '%d' "$((10#$value))"
}

ensure_home() {
	if [[ -n ${HOME:-} && $HOME != / && -d $HOME && -w $HOME ]]; then
		return
	fi
	if [[ -d /home/paude && -w /home/paude ]]; then
		HOME=/home/paude
	else
		HOME=/tmp/paude-home-$(id -u)
		mkdir -p "$HOME"
	fi
	export HOME
}

# ensure_git_safe_directory: an arbitrary UID does not own the workspace, and
# git refuses such repositories unless safe.directory allows them.
ensure_git_safe_directory() {
	command -v git >/dev/null 2>&1 || return 0
	if git config --system --get-all safe.directory 2>/dev/null | grep -qxF '*'; then
		return
	fi
	local count=${GIT_CONFIG_COUNT:-0} i key value
	if ! [[ $count =~ ^[0-9]+$ ]]; then
		log "GIT_CONFIG_COUNT=\"$count\" is not a number: not adding safe.directory"
		return
	fi
	for ((i = 0; i < count; i++)); do
		key=GIT_CONFIG_KEY_$i value=GIT_CONFIG_VALUE_$i
		if [[ ${!key:-} == safe.directory && ${!value:-} == '*' ]]; then
			return
		fi
	done
	export "GIT_CONFIG_KEY_$count=safe.directory" "GIT_CONFIG_VALUE_$count=*"
	export GIT_CONFIG_COUNT=$((count + 1))
}

# load_env_file: export the records of PAUDE_ENV_FILE. read -d '' keeps
# every byte of a value (line breaks, trailing blanks); only NUL cannot be
# in a value, as in any environment.
load_env_file() {
	local file=${PAUDE_ENV_FILE:-} record name
	[[ -n $file ]] || return 0
	[[ -r $file ]] || die "PAUDE_ENV_FILE \"$file\" is not readable: start the session again with paude"
	while IFS= read -r -d '' record; do
		name=${record%%=*}
		if [[ ! $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ || $name == PAUDE_* || $name == "$record" ]]; then
			die "PAUDE_ENV_FILE \"$file\" holds a record that is not NAME=VALUE with a variable name: start the session again with paude"
		fi
		export "$name=${record#*=}"
	done <"$file"
}

prepare_env() {
	load_env_file
	command -v tmux >/dev/null 2>&1 || die "tmux is not installed in this image: rebuild it with paude"
	# tmux cannot draw on "dumb", which is what script(1) and some exec
	# clients set when the caller had no TERM.
	if [[ -z ${TERM:-} || $TERM == dumb ]]; then
		export TERM=xterm-256color
	fi
	export LANG=${LANG:-C.UTF-8}
	ensure_home
	USER=${USER:-$(id -un 2>/dev/null || echo paude)}
	export USER
	ensure_git_safe_directory
	mkdir -p "$RUN_DIR"
}

# append_args ARRAY VAR: append the arguments encoded in VAR to ARRAY.
append_args() {
	local -n into=$1
	local encoded=${!2:-}
	[[ -n $encoded ]] || return 0
	printf '%s' "$encoded" | base64 -d >/dev/null 2>&1 ||
		die "$2 is not valid base64: rebuild the image with paude"
	mapfile -d '' -t -O "${#into[@]}" into < <(printf '%s' "$encoded" | base64 -d)
}

# save_agent DIR [ARGS...]: record the argv and directory the pane runs.
save_agent() {
	local dir=$1
	shift
	[[ -n ${PAUDE_AGENT_CMD:-} ]] || die "PAUDE_AGENT_CMD is not set: rebuild the image with paude"
	local -a argv=("$PAUDE_AGENT_CMD")
	append_args argv PAUDE_AGENT_ARGS
	if [[ ${PAUDE_YOLO:-} == 1 ]]; then
		append_args argv PAUDE_AGENT_YOLO_ARGS
	fi
	argv+=("$@")
	printf '%s\0' "${argv[@]}" >"$RUN_DIR/agent.argv.tmp.$$"
	mv -f "$RUN_DIR/agent.argv.tmp.$$" "$RUN_DIR/agent.argv"
	write_file "$RUN_DIR/agent.dir" "$dir"
}

workspace_dir() {
	local dir=${PAUDE_WORKSPACE:-$PWD}
	[[ -d $dir ]] || die "workspace \"$dir\" is not a directory: set PAUDE_WORKSPACE to an existing directory"
	(cd "$dir" && pwd -P)
}

# state_dir WORKSPACE: the setup state directory, refused inside the
# workspace (it would be synced back and the agent could forge markers).
state_dir() {
	local dir=${PAUDE_STATE_DIR:-$HOME/.paude-state} real
	mkdir -p "$dir" 2>/dev/null || die "cannot create PAUDE_STATE_DIR \"$dir\": point it at a writable directory"
	real=$(cd "$dir" && pwd -P)
	if [[ $real == "$1" || $real == "$1"/* ]]; then
		die "PAUDE_STATE_DIR \"$dir\" is inside the workspace \"$1\": point it outside the workspace"
	fi
	printf '%s' "$real"
}

# new_session [FLAGS...]: create the session running the wrapper.
new_session() {
	local dir
	dir=$(<"$RUN_DIR/agent.dir")
	# tmux expands formats in -c: "#(cmd)" in a directory name would run
	# cmd. "##" is tmux's literal "#".
	tmux -u new-session "$@" -s "$SESSION" -n agent -c "${dir//#/##}" -- "$SELF" __run
}

# last_activity: newest activity time (epoch seconds) of the session, its
# windows and its clients.
last_activity() {
	local newest=0 t
	for t in $(
		tmux display-message -p -t "$TARGET" '#{session_activity}' 2>/dev/null
		tmux list-windows -t "$TARGET" -F '#{window_activity}' 2>/dev/null
		tmux list-clients -t "$TARGET" -F '#{client_activity}' 2>/dev/null
	); do
		if [[ $t =~ ^[0-9]+$ ]] && ((t > newest)); then
			newest=$t
		fi
	done
	printf '%d' "$newest"
}

# stop_session REASON CODE MESSAGE: end the session on main's behalf.
stop_session() {
	write_file "$RUN_DIR/stop.reason" "$1"
	log "$3"
	tmux kill-session -t "$TARGET" 2>/dev/null || true
	write_file "$RUN_DIR/agent.exit" "$2"
	exit "$2"
}

report_setup() {
	[[ -z $setup_reported && -f $RUN_DIR/setup.status ]] || return 0
	setup_reported=1
	local status code logfile
	status=$(<"$RUN_DIR/setup.status")
	if [[ $status == failed* ]]; then
		read -r _ code logfile <<<"$status"
		log "setup failed with exit code $code (log: $logfile); the agent was started anyway"
	fi
}

agent_exit_code() {
	local code
	code=$(cat "$RUN_DIR/agent.exit" 2>/dev/null) || return 1
	[[ $code =~ ^[0-9]+$ ]] || return 1
	printf '%d' "$code"
}

main() {
	[[ ${1:-} != -- ]] || shift
	prepare_env
	local dir idle lifetime started code
	dir=$(workspace_dir)
	idle=$(seconds PAUDE_IDLE_TIMEOUT)
	lifetime=$(seconds PAUDE_MAX_LIFETIME)
	state_dir "$dir" >/dev/null
	save_agent "$dir" "$@"
	rm -f "$RUN_DIR"/{agent.exit,agent.screen,agent.pane,stop.reason,setup.status}
	started=$(now)
	trap 'stop_session signal 143 "received SIGTERM: stopping session \"$SESSION\""' TERM
	trap 'stop_session signal 130 "received SIGINT: stopping session \"$SESSION\""' INT
	trap 'stop_session signal 129 "received SIGHUP: stopping session \"$SESSION\""' HUP
	if ! tmux has-session -t "$TARGET" 2>/dev/null; then
		new_session -d || die "failed to create tmux session \"$SESSION\""
	fi
	log "agent running in tmux session \"$SESSION\" in $dir (uid $(id -u), HOME $HOME)"
	setup_reported=
	while tmux has-session -t "$TARGET" 2>/dev/null; do
		report_setup
		if ((lifetime > 0 && $(now) - started >= lifetime)); then
			stop_session lifetime 124 "session reached PAUDE_MAX_LIFETIME=${lifetime}s: stopping it"
		fi
		if ((idle > 0 && $(now) - $(last_activity) >= idle)); then
			stop_session idle 124 "no activity in session \"$SESSION\" for PAUDE_IDLE_TIMEOUT=${idle}s: stopping it"
		fi
		# In the background, so that signal traps run at once.
		sleep 1 &
		wait $! || true
	done
	report_setup
	if ! code=$(agent_exit_code); then
		die "session \"$SESSION\" ended without recording the agent's exit code"
	fi
	cat "$RUN_DIR/agent.screen" 2>/dev/null || true
	log "agent exited with code $code"
	exit "$code"
}

attach() {
	prepare_env
	local rc=0 code dir
	if [[ ! -f $RUN_DIR/agent.argv || ! -f $RUN_DIR/agent.dir ]]; then
		dir=$(workspace_dir)
		save_agent "$dir"
	fi
	if tmux has-session -t "$TARGET" 2>/dev/null; then
		tmux -u attach-session -d -t "$TARGET" || rc=$?
	else
		rm -f "$RUN_DIR"/{agent.exit,agent.screen,stop.reason}
		new_session -A -D || rc=$?
	fi
	if tmux has-session -t "$TARGET" 2>/dev/null; then
		exit "$rc"
	fi
	if code=$(agent_exit_code); then
		cat "$RUN_DIR/agent.screen" 2>/dev/null || true
		exit "$code"
	fi
	((rc == 0)) || exit "$rc"
	die "session \"$SESSION\" ended without recording the agent's exit code"
}

status() {
	local code
	if tmux has-session -t "$TARGET" 2>/dev/null; then
		echo running
	elif code=$(agent_exit_code); then
		echo "exited $code"
	else
		echo none
	fi
}

# run_setup DIR: PAUDE_SETUP once per (workspace, command). It runs in its
# own session (setsid) so that C-c or a hangup can end all of it.
run_setup() {
	[[ -n ${PAUDE_SETUP:-} ]] || return 0
	local state key marker logfile code=0
	state=$(state_dir "$1")
	key=$(printf '%s\0%s' "$1" "$PAUDE_SETUP" | sha256sum | cut -c1-16)
	marker=$state/setup-$key.done
	logfile=$state/setup-$key.log
	[[ ! -e $marker ]] || return 0
	echo "paude: running setup in $1 (log: $logfile; C-c skips it)"
	# shellcheck disable=SC2016 # expanded by the inner bash
	setsid bash -c 'cd "$1" && bash -c "$2" </dev/null 2>&1 | tee "$3"; exit "${PIPESTATUS[0]}"' \
		setup "$1" "$PAUDE_SETUP" "$logfile" &
	setup_pid=$!
	trap 'kill -TERM -- "-$setup_pid" 2>/dev/null || true' INT
	trap 'kill -TERM -- "-$setup_pid" 2>/dev/null || true; exit 129' HUP TERM
	while true; do
		wait "$setup_pid" && code=0 || code=$?
		kill -0 "$setup_pid" 2>/dev/null || break
	done
	trap - INT HUP TERM
	if ((code == 0)); then
		write_file "$marker" "$PAUDE_SETUP"
		write_file "$RUN_DIR/setup.status" ok
		return
	fi
	write_file "$RUN_DIR/setup.status" "failed $code $logfile"
	printf '\n*** paude: SETUP FAILED (exit code %d) ***\n' "$code"
	printf '*** log: %s; it runs again at the next start. Starting the agent anyway. ***\n\n' "$logfile"
}

# wait_for_workspace: wait until PAUDE_WAIT_FILE exists. C-c stops
# waiting: the user may want the agent on what has arrived so far.
wait_for_workspace() {
	local file=${PAUDE_WAIT_FILE:-} skip=
	[[ -n $file && ! -e $file ]] || return 0
	echo "paude: waiting for the workspace to arrive (the first sync; C-c starts without it)"
	trap 'skip=1' INT
	while [[ ! -e $file && -z $skip ]]; do
		sleep 0.2 &
		wait $! || true
	done
	trap - INT
}

# run_pane: the wrapper, the pane's process (see the top of this file).
# INT and QUIT get handlers, not ignores, so the agent keeps the default
# dispositions and this shell survives the agent's C-c. HUP keeps its
# default: a killed session ends this shell at once, and the kernel then
# hangs up the agent.
run_pane() {
	prepare_env
	local -a argv
	local dir code=0
	write_file "$RUN_DIR/agent.pane" "${TMUX_PANE:-}"
	rm -f "$RUN_DIR"/{agent.exit,agent.screen}
	mapfile -d '' -t argv <"$RUN_DIR/agent.argv"
	dir=$(<"$RUN_DIR/agent.dir")
	cd "$dir"
	wait_for_workspace
	run_setup "$dir"
	trap : INT QUIT
	"${argv[@]}" || code=$?
	if tmux capture-pane -p -t "${TMUX_PANE:-$TARGET}" >"$RUN_DIR/agent.screen.tmp.$$" 2>/dev/null; then
		# Without the trailing blank lines of the screen.
		sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}' "$RUN_DIR/agent.screen.tmp.$$" >"$RUN_DIR/agent.screen"
	fi
	rm -f "$RUN_DIR/agent.screen.tmp.$$"
	write_file "$RUN_DIR/agent.exit" "$code"
}

case ${1:-} in
attach) attach ;;
status) status ;;
__run) run_pane ;;
*) main "$@" ;;
esac
