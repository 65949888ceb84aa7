#!/usr/bin/env bash
# enter.sh [CMD [ARGS...]]: run CMD (default: bash) inside the testbed's
# network namespace, in a private mount namespace where /etc/resolv.conf
# and /etc/hosts are the testbed's: names resolve through the cluster's
# DNS (cluster names, the registry's route, the fake internet) and nothing
# else, for CMD and everything it starts (podman, paude, curl). Nothing
# changes on the host: the bind mounts exist in that mount namespace only,
# which goes away with its last process. test-kube.sh runs every test
# binary through it (go test -exec).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ${1:-} == --inside ]]; then
	shift
	mount --bind "$TB_STATE/resolv.conf" /etc/resolv.conf
	mount --bind "$TB_STATE/hosts" /etc/hosts
	(($# > 0)) || set -- bash
	exec "$@"
fi
[[ $EUID -eq 0 ]] || tb_die "enter.sh must run as root (it enters the testbed's namespaces)"
[[ -e $TB_NETNS_PATH && -f $TB_STATE/resolv.conf ]] || tb_die "the testbed $TB_NAME is not up: run hack/testbed/up.sh first"
# slave propagation: mounts the kubelet makes later (pod volumes) still
# appear in here, and nothing mounted in here leaks out.
exec nsenter --net="$TB_NETNS_PATH" -- unshare --mount --propagation slave -- "$TB_DIR/enter.sh" --inside "$@"
