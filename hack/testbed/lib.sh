#!/usr/bin/env bash
# lib.sh: names, paths and helpers shared by the testbed scripts. Source it;
# it sets no shell options of its own.
# shellcheck disable=SC2034 # the variables are used by the scripts that source this file

TB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# PAUDE_TESTBED_CACHE is where built binaries are cached; instances may
# share one (the default) or each keep its own. It must stay under
# /var/cache/paude-*, where CI keeps its caches.
TB_CACHE_ROOT=${PAUDE_TESTBED_CACHE:-/var/cache/paude-testbed}
if [[ ! $TB_CACHE_ROOT =~ ^/var/cache/paude-[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$ ]]; then
	printf '[testbed] error: PAUDE_TESTBED_CACHE=%q is invalid: use a directory under /var/cache/paude-*\n' "$TB_CACHE_ROOT" >&2
	exit 2
fi
# PAUDE_TESTBED_NAME names an instance: testbeds with different names run
# side by side (each has its own namespace, directories, cgroup and lock).
TB_NAME=${PAUDE_TESTBED_NAME:-paude-testbed}
# (The suffix "inet" is taken: the default instance's fake internet lives in
# the namespace paude-testbed-inet.)
if [[ ! $TB_NAME =~ ^paude-testbed(-[a-z0-9]{1,12})?$ || $TB_NAME == paude-testbed-inet ]]; then
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
# Clients outside the cluster (tests, kubectl, paude) reach the API server
# on the node IP; the cluster's own components use 127.0.0.1, so cutting the
# clients' path (ctl.sh api-drop) leaves the cluster running.
TB_API_CLIENT_SERVER=https://$TB_NODE_IP:$TB_API_PORT
TB_DNS_IP=10.96.0.10
TB_CLUSTER_DOMAIN=cluster.local
TB_BRIDGE=pdtb0
TB_CNI_NETWORK=paude-testbed
TB_CONTAINERD_SOCK=$TB_RUN/containerd/containerd.sock
TB_PAUSE_IMAGE=localhost/paude-testbed/pause:1
TB_PROBE_IMAGE=localhost/paude-testbed/probe:1
# The probe image with USER 65534, for restricted pods (runAsNonRoot).
TB_PROBE_NONROOT_IMAGE=localhost/paude-testbed/probe-nonroot:1
TB_COREDNS_IMAGE=localhost/paude-testbed/coredns:1
# The registry (OpenShift's integrated registry, stood in for): pods name
# images by the in-cluster Service, clients push to the default route's
# host, both served by one docker-registry on the node IP's port 443, with
# token auth from registry-auth.
TB_REGISTRY=image-registry.openshift-image-registry.svc:5000
TB_REGISTRY_ROUTE=default-route-openshift-image-registry.apps.paude.test
TB_REGISTRY_SERVICE_IP=10.96.0.20
TB_REGISTRY_ADDR=$TB_NODE_IP:443
TB_REGISTRY_AUTH_ADDR=$TB_NODE_IP:5001
TB_REGISTRY_SERVICE=paude-testbed-registry
TB_REGISTRY_ISSUER=paude-testbed-registry-auth
# A non-admin user with a static bearer token (no rights until a test grants some).
TB_USER=paude-testbed-user
# The fake internet: a second namespace behind the veth tb-inet, on
# TEST-NET-3 (RFC 5737; the Podman e2e suite uses TEST-NET-2), with one
# fake host that also owns a private address and the cloud metadata address.
TB_INET_NETNS=$TB_NAME-inet
TB_INET_NETNS_PATH=/run/netns/$TB_INET_NETNS
TB_INET_GATEWAY=203.0.113.1
TB_INET_IP=203.0.113.10
TB_INET_PRIVATE_IP=172.31.113.10
TB_INET_METADATA_IP=169.254.169.254
TB_FAKE_DOMAIN=paude.test
TB_FAKE_ALLOWED=allowed.$TB_FAKE_DOMAIN
TB_FAKE_BLOCKED=blocked.$TB_FAKE_DOMAIN
TB_FAKE_PRIVATE=private.$TB_FAKE_ALLOWED
TB_FAKE_METADATA=metadata.$TB_FAKE_ALLOWED
# The real API hosts paude talks to, answered by the fake host.
TB_FAKE_API_NAMES=(oauth2.googleapis.com us-east5-aiplatform.googleapis.com aiplatform.googleapis.com api.anthropic.com)
TB_STORAGE_CLASS=local-path
# Components in start order; down.sh stops them in reverse.
TB_COMPONENTS=(fakehost registry etcd kube-apiserver registry-auth kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router local-path-provisioner)

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
# logs/NAME.log (appending: a restarted component keeps its history) and
# recording its PID and executable in pids/NAME.pid. It does not inherit
# the tb_lock descriptor, or it would hold the lock forever.
tb_start() { tb_start_in "$TB_NETNS_PATH" "$@"; }

# tb_start_in NETNS_PATH NAME EXE ARGS...: tb_start in another namespace.
tb_start_in() {
	local netns=$1 name=$2 exe=$3
	shift 3
	[[ -x $exe ]] || tb_die "$exe is missing: run hack/testbed/install.sh"
	setsid nsenter --net="$netns" -- "$exe" "$@" </dev/null >>"$TB_STATE/logs/$name.log" 2>&1 8>&- &
	local pid=$! target i
	target=$(readlink -f "$exe")
	printf '%s\n%s\n' "$pid" "$target" >"$TB_STATE/pids/$name.pid"
	# Until nsenter has exec'd the component, tb_pid would take it for dead.
	for ((i = 0; i < 100; i++)); do
		[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$target" ]] && return 0
		tb_alive "$pid" || return 0
		sleep 0.02
	done
}

# tb_start_kube_router BINDIR starts the NetworkPolicy enforcer (its
# firewall only); up.sh starts it and ctl.sh restarts it after a failure test.
tb_start_kube_router() {
	tb_start kube-router "$1/kube-router" --kubeconfig "$TB_STATE/pki/kube-router.kubeconfig" \
		--run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
		--enable-ipv4=true --enable-ipv6=false --hostname-override "$TB_NODE_NAME" \
		--service-cluster-ip-range "$TB_SERVICE_CIDR" --metrics-port 0 --v 1
}

# tb_kubectl ARGS...: the testbed's kubectl as admin, inside the namespace.
tb_kubectl() { tb_in_netns "$(tb_bin_dir)/kubectl" --kubeconfig "$TB_STATE/pki/admin.kubeconfig" "$@"; }

# tb_render TEMPLATE OUT [SED-EXPR...]: copy config/TEMPLATE to OUT with
# every @NAME@ field filled from the variables above, plus any extra sed
# expressions.
tb_render() {
	local template=$1 out=$2
	shift 2
	local extra=() e
	for e in "$@"; do extra+=(-e "$e"); done
	sed -e "s#@STATE@#$TB_STATE#g" -e "s#@RUN@#$TB_RUN#g" -e "s#@NODE_IP@#$TB_NODE_IP#g" \
		-e "s#@NODE_NAME@#$TB_NODE_NAME#g" -e "s#@POD_CIDR@#$TB_POD_CIDR#g" \
		-e "s#@CLUSTER_CIDR@#$TB_CLUSTER_CIDR#g" -e "s#@BRIDGE@#$TB_BRIDGE#g" \
		-e "s#@CNI_NETWORK@#$TB_CNI_NETWORK#g" -e "s#@PAUSE_IMAGE@#$TB_PAUSE_IMAGE#g" \
		-e "s#@PROBE_IMAGE@#$TB_PROBE_IMAGE#g" -e "s#@COREDNS_IMAGE@#$TB_COREDNS_IMAGE#g" \
		-e "s#@CGROUP@#$TB_CGROUP#g" -e "s#@DNS_IP@#$TB_DNS_IP#g" \
		-e "s#@CLUSTER_DOMAIN@#$TB_CLUSTER_DOMAIN#g" -e "s#@REGISTRY_ADDR@#$TB_REGISTRY_ADDR#g" \
		-e "s#@REGISTRY_AUTH_ADDR@#$TB_REGISTRY_AUTH_ADDR#g" -e "s#@REGISTRY_ROUTE@#$TB_REGISTRY_ROUTE#g" \
		-e "s#@REGISTRY_SERVICE_IP@#$TB_REGISTRY_SERVICE_IP#g" -e "s#@REGISTRY_SERVICE@#$TB_REGISTRY_SERVICE#g" \
		-e "s#@REGISTRY_ISSUER@#$TB_REGISTRY_ISSUER#g" -e "s#@STORAGE_CLASS@#$TB_STORAGE_CLASS#g" \
		-e "s#@INET_IP@#$TB_INET_IP#g" -e "s#@INET_PRIVATE_IP@#$TB_INET_PRIVATE_IP#g" \
		-e "s#@INET_METADATA_IP@#$TB_INET_METADATA_IP#g" -e "s#@FAKE_DOMAIN@#$TB_FAKE_DOMAIN#g" \
		-e "s#@FAKE_ALLOWED@#$TB_FAKE_ALLOWED#g" -e "s#@FAKE_BLOCKED@#$TB_FAKE_BLOCKED#g" \
		-e "s#@FAKE_PRIVATE@#$TB_FAKE_PRIVATE#g" -e "s#@FAKE_METADATA@#$TB_FAKE_METADATA#g" \
		-e "s#@FAKE_API_NAMES@#${TB_FAKE_API_NAMES[*]}#g" "${extra[@]}" "$TB_DIR/config/$template" >"$out"
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
	[[ -e $TB_INET_NETNS_PATH ]] || return 1
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
