#!/bin/bash
# Make this machine ready for paude's Podman backend and its e2e suite:
#   1. install rootful podman and what it needs (apt, skipped when present);
#   2. write a containers.conf for CONTAINERS_CONF (nothing under /etc changes);
#   3. build the local base images the real Containerfiles start FROM
#      (there is no registry here), cached by a key of their inputs.
# Idempotent: a second run only checks. Prints the time of each step.
#
# Usage: hack/podman/install.sh        (as root)
# Then:  export CONTAINERS_CONF=/var/cache/paude-podman/containers.conf
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh must run as root (it installs packages and runs rootful podman)" >&2
  exit 1
fi

T0=$(now)

# --- 1. packages -------------------------------------------------------------
t=$(now)
missing=()
for p in "${PAUDE_HOST_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
log "packages ready ($(elapsed "$t")s)"

# --- 2. containers.conf --------------------------------------------------------
# The sandbox lacks CAP_SYS_RESOURCE, so podman's default rlimits cannot be
# set; crun refuses cgroup v1, runc does not. Container networks use the
# TEST-NET ranges (RFC 5737) so nothing a test sends is addressed to a
# private range or to a real host.
t=$(now)
mkdir -p "$PAUDE_PODMAN_DIR"
nofile=$(ulimit -Hn)
if [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ]; then nofile=65536; fi
nproc=$(ulimit -Hu)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 4096 ]; then nproc=4096; fi
conf=$(cat <<CONF
# Written by paude hack/podman/install.sh; use with CONTAINERS_CONF=$PAUDE_CONTAINERS_CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[network]
default_subnet = "203.0.113.0/26"
default_subnet_pools = [
  {"base" = "203.0.113.64/26", "size" = 27},
  {"base" = "203.0.113.128/25", "size" = 27},
]

[engine]
runtime = "runc"
CONF
)
if [ ! -f "$PAUDE_CONTAINERS_CONF" ] || [ "$(cat "$PAUDE_CONTAINERS_CONF")" != "$conf" ]; then
  printf '%s\n' "$conf" >"$PAUDE_CONTAINERS_CONF.tmp"
  mv "$PAUDE_CONTAINERS_CONF.tmp" "$PAUDE_CONTAINERS_CONF"
  log "wrote $PAUDE_CONTAINERS_CONF"
fi
export CONTAINERS_CONF=$PAUDE_CONTAINERS_CONF
if ! info=$(podman info --format '{{.Host.OCIRuntime.Name}} cgroups {{.Host.CgroupsVersion}}' 2>&1); then
  echo "podman does not work with $CONTAINERS_CONF:" >&2
  printf '%s\n' "$info" >&2
  exit 1
fi
log "podman $(podman version --format '{{.Client.Version}}') works: runtime $info ($(elapsed "$t")s)"

# --- 3. base images -------------------------------------------------------------
t=$(now)
"$here/images.sh"
log "base images ready ($(elapsed "$t")s)"

log "done in $(elapsed "$T0")s; export CONTAINERS_CONF=$PAUDE_CONTAINERS_CONF"
