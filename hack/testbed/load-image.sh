#!/usr/bin/env bash
# load-image.sh [--push] IMAGE|ARCHIVE.tar...: make images available to the
# testbed node. An IMAGE name is exported with `podman save`; an archive
# (docker-archive or OCI layout tar) is used as it is. Each is imported into
# the node's containerd (namespace k8s.io), so pods can run it with
# imagePullPolicy Never or IfNotPresent. With --push each image is also
# pushed to the testbed registry as $PAUDE_TESTBED_REGISTRY/<path>:<tag>
# (<path> must be NAMESPACE/NAME, as in OpenShift's registry), with the
# token of kube-system's registry-pusher ServiceAccount, which may push to
# every namespace; pods then need an imagePullSecret to pull it.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

push=false
if [[ ${1:-} == --push ]]; then
	push=true
	shift
fi
(($# > 0)) || tb_die "usage: load-image.sh [--push] IMAGE|ARCHIVE.tar..."
tb_pid containerd >/dev/null || tb_die "the testbed is not up: run hack/testbed/up.sh first"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
creds=
if $push; then
	token=$(tb_kubectl -n kube-system create token registry-pusher --duration 10m) ||
		tb_die "failed to get a token for kube-system/registry-pusher: is the testbed up?"
	creds=pusher:$token
fi
for image in "$@"; do
	archive=$image
	if [[ ! -f $image ]]; then
		command -v podman >/dev/null || tb_die "$image is not a file and podman is not installed to export it"
		archive=$work/image.tar
		rm -f "$archive"
		podman save --format docker-archive -o "$archive" "$image" ||
			tb_die "failed to export $image with podman save: check the name with podman images"
	fi
	out=$(tb_ctr images import "$archive") || tb_die "failed to import $archive into the node's containerd"
	# ctr prints "unpacking NAME (sha256:...)...done" for every image it imports.
	mapfile -t names < <(sed -n 's/^unpacking \(.*\) (sha256:.*/\1/p' <<<"$out")
	((${#names[@]} > 0)) || tb_die "$archive holds no tagged image"
	for name in "${names[@]}"; do
		tb_log "loaded $name"
		$push || continue
		# Drop the registry host (docker.io/, localhost/...) and keep path:tag.
		path=$name
		first=${name%%/*}
		if [[ $name == */* ]] && [[ $first == *[.:]* || $first == localhost ]]; then
			path=${name#*/}
		fi
		target=$TB_REGISTRY/$path
		tb_ctr images tag --force "$name" "$target" >/dev/null
		[[ $path =~ ^[a-z0-9][a-z0-9-]*/[^/]+$ ]] ||
			tb_die "cannot push $name as $target: the registry wants NAMESPACE/NAME[:TAG] (tag the image so first)"
		tb_in_netns ctr --address "$TB_CONTAINERD_SOCK" --namespace k8s.io images push \
			--hosts-dir "$TB_STATE/config/certs.d" --user "$creds" "$target" >/dev/null ||
			tb_die "failed to push $target"
		tb_log "pushed $target"
	done
done
