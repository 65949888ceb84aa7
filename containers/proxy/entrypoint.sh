#!/bin/bash
# paude-proxy-entrypoint: checks and runs squid in the foreground.
#
# Copies the squid.conf mounted at PAUDE_PROXY_CONF (default
# /etc/paude-proxy/squid.conf, read-only is fine) into PAUDE_PROXY_RUN_DIR
# (default /tmp/squid), refuses to start unless `squid -k parse` accepts it,
# then runs `squid -N` in the foreground as the container's main process.
# squid's access log is copied to stdout; its errors go to stderr.
# Works under any UID: everything squid writes (PID file, logs) is under the
# run directory, which the rendered squid.conf names (pkg/image.SquidConf).
# Exit codes: squid's own; 1 when the configuration is missing or invalid.
set -euo pipefail

conf=${PAUDE_PROXY_CONF:-/etc/paude-proxy/squid.conf}
run_dir=${PAUDE_PROXY_RUN_DIR:-/tmp/squid}

die() {
	printf 'paude-proxy: %s\n' "$*" >&2
	exit 1
}

command -v squid >/dev/null 2>&1 || die "squid is not installed in this image: rebuild it with paude"
[[ -r $conf ]] || die "no readable squid configuration at $conf: mount the squid.conf rendered by paude there"

mkdir -p "$run_dir"
chmod 0700 "$run_dir"
if [[ $(id -u) == 0 ]] && id proxy >/dev/null 2>&1; then
	# As root, squid drops to cache_effective_user (proxy) before it opens
	# its logs.
	chown proxy: "$run_dir"
fi
cp "$conf" "$run_dir/squid.conf"
if ! squid -k parse -f "$run_dir/squid.conf" 2>"$run_dir/parse.log"; then
	cat "$run_dir/parse.log" >&2
	die "squid rejected $conf: fix the configuration (see the lines above)"
fi
: >>"$run_dir/access.log"
if [[ $(id -u) == 0 ]] && id proxy >/dev/null 2>&1; then
	chown proxy: "$run_dir/access.log"
fi
# $$ becomes squid's PID at exec: tail ends when squid does.
tail --pid=$$ -n 0 -F "$run_dir/access.log" 2>/dev/null &
exec squid -N -d 1 -f "$run_dir/squid.conf"
