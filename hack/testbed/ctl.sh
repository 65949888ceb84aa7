#!/usr/bin/env bash
# ctl.sh COMMAND [ARG]: change a running testbed for failure tests (the
# harness's kubetest.Cluster.StopEnforcer and DropAPIServer call it; it works
# by hand as well).
#
#   enforcer-stop     stop kube-router and remove every iptables rule,
#                     chain and ipset it made: no NetworkPolicy is enforced
#                     until enforcer-start
#   enforcer-start    start kube-router again, as up.sh does, and wait until
#                     its chains exist (it then re-programs every policy)
#   api-drop ID       drop TCP from clients in the namespace to the API
#                     server (the node IP, port 6443; see TB_API_CLIENT_SERVER),
#                     the rule named ID; the cluster's own components use
#                     127.0.0.1 and keep running
#   api-restore ID    remove the rule named ID (no error when it is gone)
#
# It acts from the mount namespace the testbed's components run in (etcd's),
# even when called from a test's private one (enter.sh), so a restarted
# kube-router does not live on in the test's namespace.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $EUID -eq 0 ]] || tb_die "ctl.sh must run as root"
[[ -e $TB_NETNS_PATH ]] || tb_die "the testbed $TB_NAME is not up: run hack/testbed/up.sh first"
etcd=$(tb_pid etcd) || tb_die "the testbed $TB_NAME is not up (etcd is not running): run hack/testbed/up.sh"
if [[ $(readlink /proc/self/ns/mnt) != "$(readlink "/proc/$etcd/ns/mnt")" ]]; then
	exec nsenter --mount="/proc/$etcd/ns/mnt" -- "$TB_DIR/ctl.sh" "$@"
fi
# The binaries the testbed was started with, whatever this caller's
# PAUDE_TESTBED_CACHE says.
bin=$(sed -n 's/^export PAUDE_TESTBED_BIN=//p' "$TB_STATE/env")
[[ -x $bin/kube-router ]] || tb_die "no kube-router in $bin (from $TB_STATE/env): is the testbed up?"

# kube-router's own chains; kube-proxy's (KUBE-SERVICES, KUBE-FORWARD, ...)
# must stay.
router_chains='^(KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-)'

# flush_enforcer removes kube-router's rules one by one (never a whole-table
# restore, which could undo a concurrent kube-proxy sync), then its chains,
# then every ipset (only kube-router makes ipsets in the namespace).
flush_enforcer() {
	local chain rule
	local -a rules chains
	for chain in INPUT FORWARD OUTPUT; do
		mapfile -t rules < <(tb_in_netns iptables -w -S "$chain" | grep -E -- "-j (KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-)" || true)
		for rule in "${rules[@]}"; do
			# xargs splits the rule as iptables -S quoted it (comments hold blanks).
			printf '%s\n' "${rule/#-A/-D}" | xargs nsenter --net="$TB_NETNS_PATH" -- iptables -w
		done
	done
	mapfile -t chains < <(tb_in_netns iptables -w -S | awk '$1 == "-N" { print $2 }' | grep -E "$router_chains" || true)
	for chain in "${chains[@]}"; do tb_in_netns iptables -w -F "$chain"; done
	for chain in "${chains[@]}"; do tb_in_netns iptables -w -X "$chain"; done
	tb_in_netns ipset destroy
}

# api_rule TABLE ID: the iptables rule spec of api-drop ID. It lives in the
# raw table: kube-router rewrites the whole filter table from its own
# snapshot on every sync, which would drop a rule added meanwhile or bring
# back one removed meanwhile.
api_rule() {
	[[ $2 =~ ^[A-Za-z0-9._-]{1,64}$ ]] || tb_die "invalid rule ID $2: use 1-64 of A-Za-z0-9._-"
	printf '%s\n' OUTPUT -t "$1" -d "$TB_NODE_IP/32" -p tcp --dport "$TB_API_PORT" \
		-m comment --comment "paude-testbed api-drop $2" -j DROP
}
api_table=raw

case ${1:-} in
enforcer-stop)
	if pid=$(tb_pid kube-router); then
		kill -TERM "$pid"
		for ((i = 0; i < 100; i++)); do
			tb_alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$TB_STATE/pids/kube-router.pid"
	flush_enforcer
	tb_log "kube-router stopped and its rules removed: no NetworkPolicy is enforced"
	;;
enforcer-start)
	tb_pid kube-router >/dev/null && tb_die "kube-router is already running"
	tb_start_kube_router "$bin"
	tb_wait "kube-router firewall chains" 60 kube-router tb_in_netns iptables -S KUBE-ROUTER-FORWARD
	tb_log "kube-router started; policies are enforced once it has synced them"
	;;
api-drop)
	mapfile -t rule < <(api_rule "$api_table" "${2:?usage: ctl.sh api-drop ID}")
	tb_in_netns iptables -w -I "${rule[@]}"
	tb_log "dropping client traffic to the API server (rule ${2})"
	;;
api-restore)
	mapfile -t rule < <(api_rule "$api_table" "${2:?usage: ctl.sh api-restore ID}")
	while tb_in_netns iptables -w -C "${rule[@]}" 2>/dev/null; do
		tb_in_netns iptables -w -D "${rule[@]}"
	done
	tb_log "client traffic to the API server restored (rule ${2})"
	;;
*)
	tb_die "usage: ctl.sh enforcer-stop|enforcer-start|api-drop ID|api-restore ID"
	;;
esac
