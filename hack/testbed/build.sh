#!/usr/bin/env bash
# build.sh OUTDIR: build every testbed binary from the pinned modules under
# mods/ (Go module proxy only) into OUTDIR/bin and copy the Route CRD from
# the pinned github.com/openshift/api module into OUTDIR/crds. install.sh
# calls it and caches the result; changing this file or any pinned module
# file changes the cache key.
set -euo pipefail

K8S_VERSION=v1.37.2
K8S_MINOR=37
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out/bin" "$out/crds"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	k8s_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
	k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

# step NAME MODDIR ARGS...: run `go build ARGS` in mods/MODDIR and time it.
step() {
	local name=$1 dir=$2 start
	shift 2
	start=$(date +%s)
	(cd "$here/mods/$dir" && go build -trimpath "$@")
	printf '[build] %-12s %4ds\n' "$name" $(($(date +%s) - start)) >&2
}

# One go build for all Kubernetes commands so shared packages compile once.
step kubernetes k8s -ldflags "$k8s_ldflags" -o "$out/bin/" \
	k8s.io/kubernetes/cmd/kube-apiserver \
	k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler \
	k8s.io/kubernetes/cmd/kubelet \
	k8s.io/kubernetes/cmd/kube-proxy \
	k8s.io/kubernetes/cmd/kubectl
step etcd etcd -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3
step etcdctl etcd -ldflags "-s -w" -o "$out/bin/etcdctl" go.etcd.io/etcd/etcdctl/v3
step kube-router kube-router -ldflags "-s -w" -o "$out/bin/kube-router" \
	github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
# The stand-ins: CoreDNS (a main of ours with only the plugins the testbed
# uses), local-path-provisioner, and our registry-auth and fakehost, all
# from one module in one go build, so their shared packages (client-go
# among them) compile once.
step standins standins -ldflags "-s -w" -o "$out/bin/" \
	./cmd/coredns ./cmd/registry-auth ./cmd/fakehost github.com/rancher/local-path-provisioner
step pause pause -ldflags "-s -w" -o "$out/bin/pause" .
step probe probe -ldflags "-s -w" -o "$out/bin/probe" .

api_dir=$(cd "$here/mods/openshift" && go mod download github.com/openshift/api &&
	go list -m -f '{{.Dir}}' github.com/openshift/api)
[[ -n $api_dir ]] || { echo "[build] failed to locate github.com/openshift/api in the module cache" >&2; exit 1; }
install -m 0644 "$api_dir/route/v1/zz_generated.crd-manifests/routes.crd.yaml" "$out/crds/routes.crd.yaml"
