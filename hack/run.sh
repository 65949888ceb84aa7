#!/bin/bash
# The README's first command (`make run`): on a fresh Debian 12 machine,
# build paude, install Podman if it is missing (the same script the tests
# use), and start a real session for a workspace, attached to this
# terminal. Without a model provider configured, Claude Code shows its own
# welcome screen, which is the expected first sight.
#
# Usage: hack/run.sh [WORKSPACE [PAUDE ARGS...]]   (as root: it installs
# packages; make run WORKSPACE=dir ARGS='--yolo')
# WORKSPACE defaults to the current directory.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
workspace=${1:-$PWD}
shift || true

if [ "$(id -u)" -ne 0 ] && ! command -v podman >/dev/null 2>&1; then
	echo "paude needs Podman, and installing it needs root: run 'sudo make run', or install podman first" >&2
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
	"$repo/hack/podman/install.sh"
	export CONTAINERS_CONF=${CONTAINERS_CONF:-/var/cache/paude-podman/containers.conf}
fi
[ -d "$workspace" ] || { echo "no workspace directory $workspace" >&2; exit 1; }
cd "$workspace"
echo "Starting a paude session for $workspace (C-b d detaches; 'paude attach' comes back)" >&2
exec "$repo/bin/paude" "$@"
