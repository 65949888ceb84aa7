#!/usr/bin/env bash
# install.sh: install the Debian packages the testbed runs on and build its
# binaries from the pinned Go modules (see build.sh), cached under
# $PAUDE_TESTBED_CACHE (default /var/cache/paude-testbed)/<key>. A cache hit
# builds nothing; a second run is a no-op apart from the checks.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $EUID -eq 0 ]] || tb_die "install.sh must run as root (it installs packages and writes $TB_CACHE_ROOT)"
command -v go >/dev/null || tb_die "go is not on PATH: install Go 1.26 first"
start=$(tb_now)

# Each entry is "package:file that proves it is installed".
packages=(
	containerd:/usr/bin/containerd
	runc:/usr/sbin/runc
	containernetworking-plugins:/usr/lib/cni/bridge
	ipset:/usr/sbin/ipset
	iptables:/usr/sbin/iptables
	conntrack:/usr/sbin/conntrack
	iproute2:/usr/sbin/ip
	docker-registry:/usr/bin/docker-registry
	openssl:/usr/bin/openssl
	busybox-static:/bin/busybox
	curl:/usr/bin/curl
	util-linux:/usr/bin/nsenter
	procps:/sbin/sysctl
	# Tests push to the registry with podman as a user would.
	podman:/usr/bin/podman
)
missing=()
for entry in "${packages[@]}"; do
	[[ -e ${entry#*:} ]] || missing+=("${entry%%:*}")
done
if ((${#missing[@]} > 0)); then
	tb_log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
tb_log "packages ready in $(tb_since "$start")s"

key=$(tb_key)
dest=$TB_CACHE_ROOT/$key
mkdir -p "$TB_CACHE_ROOT"
# One build at a time per cache; a second caller waits and then reuses it.
exec 9>"$TB_CACHE_ROOT/.lock"
flock 9
if [[ -f $dest/.complete ]]; then
	tb_log "binaries cached in $dest (key $key)"
else
	build_start=$(tb_now)
	tmp=$TB_CACHE_ROOT/.build-$key
	rm -rf "$tmp"
	tb_log "building binaries for key $key (cold: about 10 minutes on 2 cores)"
	"$TB_DIR/build.sh" "$tmp"
	touch "$tmp/.complete"
	rm -rf "$dest"
	mv "$tmp" "$dest"
	tb_log "built $dest in $(tb_since "$build_start")s"
	# Older keys and interrupted builds are dead weight (hundreds of MiB each).
	for old in "$TB_CACHE_ROOT"/*/ "$TB_CACHE_ROOT"/.build-*/; do
		old=${old%/}
		[[ $old == "$dest" ]] || rm -rf "$old"
	done
fi
tb_log "install done in $(tb_since "$start")s"
