#!/usr/bin/env bash
# lib.sh: names, paths and helpers shared by the testbed scripts. Source it;
# it sets no shell options of its own.
# shellcheck disable=SC2034 # the variables are used by the scripts that source this file

TB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_CACHE_ROOT=${PAUDE_TESTBED_CACHE:-/var/cache/paude-testbed}
# PAUDE_TESTBED_NAME names an instance: testbeds with different names run
# side by side (each has its own namespace, directories, cgroup and lock).
TB_NAME=${PAUDE_TESTBED_NAME:-paude-testbed}
if [[ ! $TB_NAME =~ ^paude-testbed(-[a-z0-9]{1,12})?$ ]]; then
	printf '[testbed] error: PAUDE_TESTBED_NAME=%q is invalid: use paude-testbed or paude-testbed-<1-12 of a-z0-9>\n' "$TB_NAME" >&2
	exit 2
fi
TB_STATE=/var/lib/$TB_NAME
TB_RUN=/run/$TB_NAME
TB_NETNS=$TB_NAME
TB_NETNS_PATH=/run/netns/$TB_NETNS
# The kubelet's cgroup root: pods live in /sys/fs/cgroup/<controller>/$TB_CGROUP.
TB_CGROUP=$TB_NAME
# Host sysctls as they were before the first running testbed changed them.
TB_SYSCTLS=/run/paude-testbed.sysctls
# The node's address: TEST-NET-1 (RFC 5737), never routed anywhere.
TB_NODE_IP=192.0.2.10
TB_NODE_NAME=paude-node
TB_POD_CIDR=10.244.0.0/24
TB_CLUSTER_CIDR=10.244.0.0/16
TB_SERVICE_CIDR=10.96.0.0/24
TB_API_SERVICE_IP=10.96.0.1
TB_API_PORT=6443
TB_REGISTRY=127.0.0.1:5000
TB_BRIDGE=pdtb0
TB_CNI_NETWORK=paude-testbed
TB_CONTAINERD_SOCK=$TB_RUN/containerd/containerd.sock
TB_PAUSE_IMAGE=localhost/paude-testbed/pause:1
TB_PROBE_IMAGE=localhost/paude-testbed/probe:1
# Components in start order; down.sh stops them in reverse.
TB_COMPONENTS=(registry etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router)

tb_log() { printf '[testbed] %s\n' "$*" >&2; }
tb_die() { printf '[testbed] error: %s\n' "$*" >&2; exit 1; }

# tb_lock serialises the scripts of one testbed instance: a second up, down
# or test-kube of the same name waits for the first. Children of a holder (test-kube.sh runs
# up.sh and down.sh) inherit the lock and do not take it again.
tb_lock() {
	[[ ${PAUDE_TESTBED_LOCKED:-} == 1 ]] && return 0
	mkdir -p /run/lock
	exec 8>"/run/lock/$TB_NAME.lock"
	if ! flock -n 8; then
		tb_log "waiting for another testbed script to finish"
		flock 8
	fi
	export PAUDE_TESTBED_LOCKED=1
}

# tb_key prints the cache key: a hash of every pinned module file, the
# build script and the Go version that compiles them.
tb_key() {
	(
		cd "$TB_DIR" || exit 1
		find mods -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) -print0 | sort -z | xargs -0 sha256sum
		sha256sum build.sh
		go env GOVERSION
	) | sha256sum | cut -c1-16
}

# tb_bin_dir prints where the binaries for the current key live.
tb_bin_dir() { printf '%s/%s/bin\n' "$TB_CACHE_ROOT" "$(tb_key)"; }

# tb_in_netns runs a command inside the testbed's network namespace. It uses
# nsenter rather than `ip netns exec`, which remounts /sys and hides the
# cgroup hierarchy from the kubelet.
tb_in_netns() { nsenter --net="$TB_NETNS_PATH" -- "$@"; }

# tb_ctr runs ctr against the node's containerd in the k8s.io namespace.
tb_ctr() { ctr --address "$TB_CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# tb_now prints seconds since the epoch with millisecond precision.
tb_now() { date +%s.%3N; }

# tb_since START prints the seconds elapsed since START (from tb_now).
tb_since() { awk -v s="$1" -v e="$(date +%s.%3N)" 'BEGIN { printf "%.1f", e - s }'; }

# tb_pid NAME prints the recorded PID of component NAME if that process is
# still the one we started (same executable), and fails otherwise.
tb_pid() {
	local file=$TB_STATE/pids/$1.pid pid exe
	[[ -f $file ]] || return 1
	{ read -r pid && read -r exe; } <"$file" || return 1
	[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$exe" ]] || return 1
	printf '%s\n' "$pid"
}

# tb_alive PID succeeds while PID runs; a zombie waiting to be reaped by
# init counts as gone.
tb_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# tb_start NAME EXE ARGS...: start a component inside the network namespace,
# in its own session (so it outlives the calling script), logging to
# logs/NAME.log and recording its PID and executable in pids/NAME.pid. It
# does not inherit the tb_lock descriptor, or it would hold the lock forever.
tb_start() {
	local name=$1 exe=$2
	shift 2
	[[ -x $exe ]] || tb_die "$exe is missing: run hack/testbed/install.sh"
	setsid nsenter --net="$TB_NETNS_PATH" -- "$exe" "$@" </dev/null >"$TB_STATE/logs/$name.log" 2>&1 8>&- &
	printf '%s\n%s\n' "$!" "$(readlink -f "$exe")" >"$TB_STATE/pids/$name.pid"
}

# tb_wait DESCRIPTION SECONDS NAME CMD...: poll CMD until it succeeds; fail
# early when component NAME dies, and after SECONDS in any case.
tb_wait() {
	local what=$1 limit=$2 name=$3 deadline
	shift 3
	deadline=$(($(date +%s) + limit))
	until "$@" >/dev/null 2>&1; do
		tb_pid "$name" >/dev/null || tb_die "$name exited while waiting for $what"
		(($(date +%s) < deadline)) || tb_die "timed out after ${limit}s waiting for $what"
		sleep 0.2
	done
}

# tb_healthy succeeds when every component runs and the API server is ready.
tb_healthy() {
	local c
	[[ -e $TB_NETNS_PATH ]] || return 1
	for c in "${TB_COMPONENTS[@]}"; do tb_pid "$c" >/dev/null || return 1; done
	tb_in_netns "$(tb_bin_dir)/kubectl" --kubeconfig "$TB_STATE/pki/admin.kubeconfig" \
		--request-timeout 5s get --raw /readyz >/dev/null 2>&1
}

# tb_tails prints the last lines of every component log.
tb_tails() {
	local log
	for log in "$TB_STATE"/logs/*.log; do
		[[ -f $log ]] || continue
		printf '\n===== %s (last 25 lines) =====\n' "$log" >&2
		tail -n 25 "$log" >&2
	done
}
