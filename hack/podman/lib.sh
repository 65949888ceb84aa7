# shellcheck shell=bash
# Shared helpers for the hack/podman scripts. Source it; it defines
# functions and the paths every script agrees on, and changes nothing.

# PAUDE_PODMAN_DIR holds the generated containers.conf and build scratch
# space. It lives outside the work tree so a fresh clone reuses it.
PAUDE_PODMAN_DIR=${PAUDE_PODMAN_DIR:-/var/cache/paude-podman}
PAUDE_CONTAINERS_CONF=$PAUDE_PODMAN_DIR/containers.conf

# The Debian packages the host needs for rootful podman on these machines.
# iptables is required by netavark although podman only suggests it.
# shellcheck disable=SC2034 # used by the scripts that source this file
PAUDE_HOST_PACKAGES=(podman runc conmon netavark aardvark-dns iptables
  mmdebstrap eatmydata busybox-static tmux uidmap)

# now prints a timestamp with nanoseconds, for elapsed().
now() { date +%s.%N; }

# elapsed START [END] prints the seconds between two now() stamps.
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN { printf "%.1f", b - a }'; }

# log prints a progress line on stderr.
log() { printf '[podman] %s\n' "$*" >&2; }

# debian_mirror prints the first Debian mirror of the machine's apt
# sources (deb822 or one-line format). It is never hard-coded: the
# machines that run this reach only their own configured mirror.
debian_mirror() {
  local m=""
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    m=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$m" ]; then
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }')
  fi
  if [ -z "$m" ]; then
    echo "no Debian mirror found in the apt sources: add one to /etc/apt/sources.list" >&2
    return 1
  fi
  printf '%s\n' "$m"
}

# use_containers_conf exports CONTAINERS_CONF when install.sh wrote it.
use_containers_conf() {
  if [ -z "${CONTAINERS_CONF:-}" ] && [ -f "$PAUDE_CONTAINERS_CONF" ]; then
    export CONTAINERS_CONF=$PAUDE_CONTAINERS_CONF
  fi
}
