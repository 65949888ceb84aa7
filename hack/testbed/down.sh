#!/usr/bin/env bash
# down.sh [--quiet]: stop the testbed started by up.sh. Pods are deleted
# first so the kubelet tears their sandboxes down cleanly; then every
# component is stopped by its recorded PID in reverse start order; then
# anything left is swept: container processes in the testbed's cgroups,
# containerd shims of our socket, processes inside our network namespaces,
# mounts under our state directories, the namespaces themselves (the
# cluster's and the fake internet's, and with them their veths and all
# iptables rules and ipsets), the cgroups and the host sysctls the kubelet
# changed. Logs stay in /var/lib/<name>/logs. It fails if anything is
# left behind. A second call does nothing.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

quiet=false
[[ ${1:-} == --quiet ]] && quiet=true
say() { $quiet || tb_log "$@"; }
[[ $EUID -eq 0 ]] || tb_die "down.sh must run as root"
tb_lock
start=$(tb_now)

# stop NAME: SIGTERM the component, SIGKILL it after 10 s.
stop() {
	local pid i t0
	pid=$(tb_pid "$1") || { rm -f "$TB_STATE/pids/$1.pid"; return 0; }
	t0=$(tb_now)
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		tb_alive "$pid" || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$TB_STATE/pids/$1.pid"
	say "stopped $1 ($pid) in $(tb_since "$t0")s"
}

# kill_pids PID...: SIGKILL each PID and wait until they are gone.
kill_pids() {
	local pid i
	(($# > 0)) || return 0
	kill -KILL "$@" 2>/dev/null || true
	for pid in "$@"; do
		for ((i = 0; i < 50; i++)); do
			tb_alive "$pid" || break
			sleep 0.1
		done
	done
}

bin=$(tb_bin_dir)
kubectl=("$bin/kubectl" --kubeconfig "$TB_STATE/pki/admin.kubeconfig" --request-timeout 5s)
# 1. Controllers first, so nothing re-creates the pods deleted next.
stop kube-controller-manager
stop kube-scheduler
if tb_pid kubelet >/dev/null && tb_pid kube-apiserver >/dev/null; then
	t0=$(tb_now)
	tb_in_netns "${kubectl[@]}" delete pods --all --all-namespaces --grace-period 0 --force \
		--wait=false >/dev/null 2>&1 || true
	for ((i = 0; i < 150; i++)); do
		[[ -z $(tb_ctr tasks ls -q 2>/dev/null) ]] && break
		sleep 0.2
	done
	say "pods gone in $(tb_since "$t0")s"
fi
# 2. Components in reverse start order; containerd kills its leftover tasks first.
for ((c = ${#TB_COMPONENTS[@]} - 1; c >= 0; c--)); do
	name=${TB_COMPONENTS[c]}
	if [[ $name == containerd ]] && tb_pid containerd >/dev/null; then
		for task in $(tb_ctr tasks ls -q 2>/dev/null); do
			tb_ctr tasks kill --signal SIGKILL "$task" >/dev/null 2>&1 || true
		done
	fi
	stop "$name"
done

# 3. Sweep. Container processes: everything in our cgroup root.
mapfile -t pids < <(find "/sys/fs/cgroup/pids/$TB_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null || true)
((${#pids[@]} == 0)) || say "killing ${#pids[@]} leftover container processes"
kill_pids "${pids[@]}"
# Shims of our containerd (they re-parent to init) and anything else still
# inside our network namespaces: only this testbed ever enters them.
pids=()
netns_inodes=" "
for ns in "$TB_NETNS_PATH" "$TB_INET_NETNS_PATH"; do
	netns_inodes+="$(stat -L -c %i "$ns" 2>/dev/null || true) "
done
for proc in /proc/[0-9]*; do
	pid=${proc#/proc/}
	((pid == $$)) && continue
	inode=$(stat -L -c %i "$proc/ns/net" 2>/dev/null || true)
	if [[ -n $inode && $netns_inodes == *" $inode "* ]] ||
		tr '\0' ' ' 2>/dev/null <"$proc/cmdline" | grep -qF -- "-address $TB_CONTAINERD_SOCK "; then
		pids+=("$pid")
	fi
done
((${#pids[@]} == 0)) || say "killing ${#pids[@]} leftover testbed processes"
kill_pids "${pids[@]}"

# 4. Mounts under our directories (pod volumes, rootfs, shm, pod netns),
# deepest first.
mapfile -t mounts < <(awk -v s="$TB_STATE/" -v r="$TB_RUN/" \
	'index($5, s) == 1 || index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
for m in "${mounts[@]}"; do
	umount "$m" 2>/dev/null || umount -l "$m"
done

# 5. The network namespaces, their veth pairs and every iptables rule and
# ipset in them.
for ns in "$TB_NETNS" "$TB_INET_NETNS"; do
	if [[ -e /run/netns/$ns ]]; then
		ip netns delete "$ns"
		say "deleted network namespace $ns"
	fi
done

# 6. Our cgroup root in every hierarchy, leaves first (all empty by now).
for root in /sys/fs/cgroup/*/"$TB_CGROUP"; do
	[[ -d $root ]] || continue
	find "$root" -depth -type d -exec rmdir {} + 2>/dev/null || true
done

# 7. Host sysctls the kubelet changed, and files it left at fixed paths.
if [[ -f $TB_SYSCTLS ]] && ! compgen -G "/run/netns/paude-testbed*" >/dev/null; then
	while IFS='=' read -r key value; do
		[[ $(cat "/proc/sys/$key") == "$value" ]] || echo "$value" >"/proc/sys/$key"
	done <"$TB_SYSCTLS"
	rm -f "$TB_SYSCTLS"
fi
find /var/log/containers -maxdepth 1 -type l -lname "$TB_STATE/*" -delete 2>/dev/null || true
# Fixed paths the kubelet, containerd and libcni use whatever their root
# dirs: the kubelet socket goes when no other testbed runs, and each
# directory too if nothing else is in it.
compgen -G "/run/netns/paude-testbed*" >/dev/null || rm -f /var/lib/kubelet/device-plugins/kubelet.sock
rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers \
	/run/containerd/s /run/containerd /var/lib/cni/results /var/lib/cni 2>/dev/null || true

# 8. Runtime data; logs, kubeconfig and PKI stay for inspection.
rm -rf "$TB_RUN" "$TB_STATE"/{containerd,containerd-opt,kubelet,etcd,registry,cni-ipam,pod-logs,local-path} "$TB_STATE/env"

# 9. Prove it: nothing of ours may be left.
left=()
for c in "${TB_COMPONENTS[@]}"; do
	pid=$(tb_pid "$c") && left+=("process $c ($pid)")
done
[[ -e $TB_NETNS_PATH ]] && left+=("network namespace $TB_NETNS")
[[ -e $TB_INET_NETNS_PATH ]] && left+=("network namespace $TB_INET_NETNS")
[[ -e $TB_STATE/local-path ]] && left+=("volumes in $TB_STATE/local-path")
while read -r m; do left+=("mount $m"); done < <(awk -v s="$TB_STATE/" -v r="$TB_RUN/" \
	'index($5, s) == 1 || index($5, r) == 1 { print $5 }' /proc/self/mountinfo)
[[ -d /sys/fs/cgroup/pids/$TB_CGROUP ]] && left+=("cgroup /sys/fs/cgroup/pids/$TB_CGROUP")
((${#left[@]} == 0)) || tb_die "down left behind: ${left[*]}"
say "down in $(tb_since "$start")s"
