#!/bin/bash
# Benchmark (not a test): how long a warm `paude` start takes until the
# agent's tmux session is ready, against a bare `podman run` of the same
# image starting tmux, printed as a ratio. Warm means the images are built
# and the proxy runs, as on every start but the first.
#
# Usage: hack/bench/podman-start.sh [RUNS]   (as root; make bench-podman)
# Needs bin/paude (make build) and hack/podman/install.sh. With
# PAUDE_BENCH_GIT=1 the workspace is a git repository, so each start also
# gives the session its own repository (the git boundary).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# lib.sh is checked on its own; here it only provides functions and paths.
# shellcheck source=/dev/null
. "$repo/hack/podman/lib.sh"

runs=${1:-5}
paude=${PAUDE_BIN:-$repo/bin/paude}
[ -x "$paude" ] || { echo "no paude binary at $paude: run make build" >&2; exit 1; }
"$repo/hack/podman/install.sh" 2>/dev/null
export CONTAINERS_CONF=$PAUDE_CONTAINERS_CONF

work=$(mktemp -d /tmp/paude-bench.XXXXXX)
bare="paude-bench-bare"
cleanup() {
  podman rm -f -t 0 "$bare" >/dev/null 2>&1 || true
  (cd "$work/ws" 2>/dev/null && "$paude" stop --all >/dev/null 2>&1) || true
  rm -rf "$work"
}
trap cleanup EXIT

# A project whose agent is a plain shell: the benchmark measures paude,
# not the agent's own start-up.
mkdir -p "$work/ws" "$work/home"
cat >"$work/ws/paude.json" <<'JSON'
{
  "agent": {"name": "bench-shell", "command": "bash", "install": ""},
  "network": {"allowedDomains": [".example.com"]}
}
JSON
export HOME=$work/home PAUDE_PODMAN_PULL=never
if [ "${PAUDE_BENCH_GIT:-}" = 1 ]; then
  # The agent's user owns the workspace, root runs paude: git needs
  # safe.directory to read it, as for any repository owned by another.
  printf '[safe]\n\tdirectory = *\n[user]\n\tname = bench\n\temail = bench@example.invalid\n' >"$work/home/.gitconfig"
  git -C "$work/ws" init -q && git -C "$work/ws" add -A && git -C "$work/ws" commit -q -m bench
fi
chown -R 1000:1000 "$work/ws"
cd "$work/ws"
# The benchmark's own configuration: trusted once, so no start asks.
"$paude" trust --yes >/dev/null 2>&1 || :

ms() { date +%s%3N; }

# One start that builds what is missing and starts the proxy.
log "warming up (builds the images and starts the proxy when needed)"
"$paude" </dev/null >/dev/null 2>"$work/warmup.log" || { cat "$work/warmup.log" >&2; exit 1; }
id=$("$paude" sessions | awk 'NR == 2 { print $1 }')
image=$(podman inspect --format '{{.ImageName}}' "paude-$id")
"$paude" stop "$id" >/dev/null 2>&1

# paude: from invoking it to its "Session ... is running" line, printed
# once the agent's tmux session exists. (Without a terminal paude then
# prints the screen and returns; that part is not timed.)
paude_ms=()
for i in $(seq "$runs"); do
  t=$(ms)
  ready=$("$paude" 2>&1 </dev/null >/dev/null | tee "$work/run.log" |
    while IFS= read -r line; do
      case $line in *" is running"*) ms ;; esac
    done)
  [ -n "$ready" ] || { cat "$work/run.log" >&2; exit 1; }
  paude_ms+=($((ready - t)))
  id=$("$paude" sessions | awk 'NR == 2 { print $1 }')
  "$paude" stop "$id" >/dev/null 2>&1
  log "paude run $i: ${paude_ms[-1]} ms"
done

# Bare podman: run the same image detached with tmux as its process, and
# poll until the tmux session exists, as paude polls for its own.
bare_ms=()
for i in $(seq "$runs"); do
  t=$(ms)
  podman run -d --name "$bare" --pull=never --network none --entrypoint bash "$image" \
    -c 'tmux new-session -d -s bench bash && while tmux has-session -t bench 2>/dev/null; do sleep 1; done' >/dev/null
  until podman exec "$bare" tmux has-session -t bench 2>/dev/null; do sleep 0.1; done
  bare_ms+=($(($(ms) - t)))
  podman rm -f -t 0 "$bare" >/dev/null
  log "bare run $i: ${bare_ms[-1]} ms"
done

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
p=$(median "${paude_ms[@]}")
b=$(median "${bare_ms[@]}")
printf 'warm paude start to tmux-ready: median %d ms over %d runs\n' "$p" "$runs"
printf 'bare podman run to tmux-ready:  median %d ms over %d runs\n' "$b" "$runs"
awk -v p="$p" -v b="$b" 'BEGIN { printf "ratio paude / bare podman: %.2f\n", p / b }'
