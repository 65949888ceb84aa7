#!/bin/bash
# Build the local base images paude's real Containerfiles start FROM. This
# machine reaches no container registry, so a Debian root file system made
# with mmdebstrap from the machine's own apt mirror is imported and tagged
# with the name the Containerfiles use; builds then run unchanged with
# --pull=never.
#
# Each image is cached by a key of (suite, package list, mirror, this
# script): an existing localhost/paude-base-<name>:<key> is only re-tagged.
#
# Usage: hack/podman/images.sh   (as root, after install.sh wrote containers.conf)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
use_containers_conf

SUITE=bookworm
# Packages paude's own Containerfiles install on top of debian:bookworm-slim
# (containers/paude, containers/proxy). Having them in the base turns the
# Containerfiles' apt-get install into a quick no-op, so a --rebuild in the
# e2e suite does not download them again.
DEBIAN_PACKAGES=(ca-certificates curl git tmux procps less squid)

# The root file system gets no resolv.conf or hostname: podman provides
# them per container. Docs, man pages and locales are left out as in the
# official slim images. "$1" is expanded by mmdebstrap, not here.
# shellcheck disable=SC2016
MMDEBSTRAP_OPTS=(--quiet --variant=apt
  --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/etc/resolv.conf "$1"/etc/hostname')
IMPORT_CHANGES=('CMD ["bash"]' 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')

mirror=$(debian_mirror)

# build_base NAME TAG PACKAGES... makes TAG from a fresh bookworm root file
# system with PACKAGES, unless the cached image for the same inputs exists.
build_base() {
  local name=$1 tag=$2
  shift 2
  local pkgs key cached t
  pkgs=$(printf '%s\n' "$@" | sort -u | paste -sd, -)
  key=$(printf '%s\n' "$SUITE" "$pkgs" "$mirror" "${MMDEBSTRAP_OPTS[@]}" "${IMPORT_CHANGES[@]}" |
    sha256sum | cut -c1-12)
  cached=localhost/paude-base-$name:$key
  if podman image exists "$cached"; then
    log "base $tag: cache hit ($cached)"
  else
    t=$(now)
    log "base $tag: building $cached with mmdebstrap from $mirror"
    local buildlog=$PAUDE_PODMAN_DIR/mmdebstrap-$name.log
    local changes=() c
    for c in "${IMPORT_CHANGES[@]}" "LABEL io.paude.base-key=$key"; do
      changes+=(--change "$c")
    done
    mmdebstrap "${MMDEBSTRAP_OPTS[@]}" --include="$pkgs" \
      "$SUITE" - "deb $mirror $SUITE main" 2>"$buildlog" |
      podman import --quiet "${changes[@]}" - "$cached" >/dev/null || {
      echo "failed to build base image $tag; mmdebstrap said:" >&2
      tail -n 30 "$buildlog" >&2
      return 1
    }
    log "base $tag: built in $(elapsed "$t")s"
    # Drop the images of older keys: only the current inputs are cached.
    local old
    for old in $(podman images --format '{{.Repository}}:{{.Tag}}' "localhost/paude-base-$name"); do
      [ "$old" = "$cached" ] || podman rmi "$old" >/dev/null
    done
  fi
  with_machine_cas "$name" "$cached" "$tag"
}

# with_machine_cas NAME IMAGE TAG tags IMAGE as TAG, first adding the CA
# certificates this machine trusts beyond Debian's (a TLS-intercepting
# egress gateway's, a company CA): without them nothing inside a build can
# reach the npm registry or the mirror over HTTPS. Node.js is pointed at
# the system bundle as well, as npm does not read it by itself. The layer
# is cached by a key of IMAGE and the certificates, which may change more
# often than the root file system.
with_machine_cas() {
  local name=$1 image=$2 tag=$3 certs=() key ctx
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    certs=(/usr/local/share/ca-certificates/*.crt)
  fi
  if [ ${#certs[@]} -eq 0 ]; then
    podman tag "$image" "$tag"
    return
  fi
  key=$( (printf '%s\n' "$image"; cat "${certs[@]}") | sha256sum | cut -c1-12)
  local layered=localhost/paude-base-$name-ca:$key
  if ! podman image exists "$layered"; then
    ctx=$(mktemp -d)
    cp "${certs[@]}" "$ctx/"
    {
      printf 'FROM %s\n' "$image"
      printf 'COPY *.crt /usr/local/share/ca-certificates/\n'
      printf 'RUN update-ca-certificates >/dev/null 2>&1\n'
      printf 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt\n'
    } >"$ctx/Containerfile"
    podman build --quiet --pull=never --network=none -t "$layered" "$ctx" >/dev/null
    rm -rf "$ctx"
    log "base $tag: added ${#certs[@]} machine CA certificate(s) ($layered)"
    local old
    for old in $(podman images --format '{{.Repository}}:{{.Tag}}' "localhost/paude-base-$name-ca"); do
      [ "$old" = "$layered" ] || podman rmi "$old" >/dev/null
    done
  fi
  podman tag "$layered" "$tag"
}

build_base debian docker.io/library/debian:bookworm-slim "${DEBIAN_PACKAGES[@]}"
