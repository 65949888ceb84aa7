#!/usr/bin/env bash
# image.sh REF ROOTFS OUT.tar [CMD_JSON [USER]]: pack directory ROOTFS as a
# single-layer image named REF in docker-archive format, which
# `ctr images import` and `podman load` both read. No registry, no daemon.
# USER, when given, is the image's default user (as a Containerfile's USER).
set -euo pipefail

ref=${1:?usage: image.sh REF ROOTFS OUT.tar [CMD_JSON [USER]]}
rootfs=${2:?rootfs directory missing}
out=${3:?output file missing}
cmd=${4:-'["/bin/sh"]'}
user=${5:-}
[[ $user =~ ^[a-z0-9_:-]*$ ]] || { echo "image.sh: invalid user $user" >&2; exit 1; }
[[ -d $rootfs ]] || { echo "image.sh: $rootfs is not a directory" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Fixed owner and mtime: the same rootfs always yields the same image ID.
tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$rootfs" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/$diff_id"
mv "$work/layer.tar" "$work/$diff_id/layer.tar"
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":%s,"User":"%s"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
	"$cmd" "$user" "$diff_id" >"$work/config.json"
config_id=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/$config_id.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
	"$config_id" "$ref" "$diff_id" >"$work/manifest.json"
tar --mtime=@0 -C "$work" -cf "$out.tmp" manifest.json "$config_id.json" "$diff_id/layer.tar"
mv "$out.tmp" "$out"
