#!/usr/bin/env bash
# up.sh: start a single-node Kubernetes cluster inside the private network
# namespace $PAUDE_TESTBED_NAME (default paude-testbed): etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, containerd +
# kubelet (a real node), kube-proxy (iptables),
# kube-router (NetworkPolicy enforcement only) and a plain-HTTP registry on
# the namespace's loopback. Writes /var/lib/<name>/kubeconfig and
# /var/lib/<name>/env. If the testbed is already up and healthy it
# changes nothing; a half-started one is torn down and started afresh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

[[ $EUID -eq 0 ]] || tb_die "up.sh must run as root (it creates a network namespace and runs a kubelet)"
tb_lock
bin=$(tb_bin_dir)
[[ -f $bin/../.complete ]] || tb_die "no binaries in $bin: run hack/testbed/install.sh first"
kubectl=("$bin/kubectl" --kubeconfig "$TB_STATE/pki/admin.kubeconfig")
start=$(tb_now)

if tb_healthy; then
	tb_log "already up; source $TB_STATE/env"
	exit 0
fi
"$TB_DIR/down.sh" --quiet

scratch=$(mktemp -d)
on_exit() {
	local rc=$?
	rm -rf "$scratch"
	((rc == 0)) && return
	tb_log "up failed; component logs follow"
	tb_tails
	"$TB_DIR/down.sh" --quiet || true
	exit "$rc"
}
trap on_exit EXIT

# Fresh state every time; only the binaries are cached.
rm -rf "$TB_STATE" "$TB_RUN"
mkdir -p "$TB_STATE"/{logs,pids,config/cni,images} "$TB_RUN"
chmod 0700 "$TB_STATE"

# The kubelet rewrites these host-wide sysctls; the last down.sh of all
# running testbeds puts them back.
if [[ ! -f $TB_SYSCTLS ]]; then
	for s in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
		printf '%s=%s\n' "$s" "$(cat "/proc/sys/$s")"
	done >"$TB_SYSCTLS.tmp"
	mv "$TB_SYSCTLS.tmp" "$TB_SYSCTLS"
fi

# The kubelet's cgroup root, in every hierarchy (it must exist beforehand).
for hierarchy in /sys/fs/cgroup/*/; do
	if [[ -f ${hierarchy}cgroup.procs ]]; then
		mkdir -p "$hierarchy$TB_CGROUP"
	fi
done

# Network namespace: loopback plus a veth whose TEST-NET address is the
# node IP. Its peer stays inside too, so nothing leaves the namespace.
ip netns add "$TB_NETNS"
tb_in_netns ip link set lo up
tb_in_netns ip link add tb-node type veth peer name tb-peer
tb_in_netns ip addr add "$TB_NODE_IP/24" dev tb-node
tb_in_netns ip link set tb-node up
tb_in_netns ip link set tb-peer up
tb_in_netns ip route add default dev tb-node
tb_in_netns sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1

"$TB_DIR/pki.sh" "$TB_STATE/pki" "$TB_NODE_NAME" "$TB_NODE_IP" "$TB_API_SERVICE_IP"
cp "$TB_STATE/pki/admin.kubeconfig" "$TB_STATE/kubeconfig"

# render TEMPLATE OUT: copy a config template with the @NAME@ fields filled.
render() {
	sed -e "s#@STATE@#$TB_STATE#g" -e "s#@RUN@#$TB_RUN#g" -e "s#@NODE_IP@#$TB_NODE_IP#g" \
		-e "s#@NODE_NAME@#$TB_NODE_NAME#g" -e "s#@POD_CIDR@#$TB_POD_CIDR#g" \
		-e "s#@CLUSTER_CIDR@#$TB_CLUSTER_CIDR#g" -e "s#@REGISTRY@#$TB_REGISTRY#g" \
		-e "s#@BRIDGE@#$TB_BRIDGE#g" -e "s#@CNI_NETWORK@#$TB_CNI_NETWORK#g" \
		-e "s#@PAUSE_IMAGE@#$TB_PAUSE_IMAGE#g" -e "s#@CGROUP@#$TB_CGROUP#g" "$TB_DIR/config/$1" >"$2"
}
render containerd.toml "$TB_STATE/config/containerd.toml"
render cni.conflist "$TB_STATE/config/cni/10-$TB_CNI_NETWORK.conflist"
mkdir -p "$TB_STATE/config/certs.d/$TB_REGISTRY"
render registry-hosts.toml "$TB_STATE/config/certs.d/$TB_REGISTRY/hosts.toml"
render registry.yml "$TB_STATE/config/registry.yml"
render kubelet.yaml "$TB_STATE/config/kubelet.yaml"
render kube-proxy.yaml "$TB_STATE/config/kube-proxy.yaml"

pki=$TB_STATE/pki
tb_start registry /usr/bin/docker-registry serve "$TB_STATE/config/registry.yml"
tb_start etcd "$bin/etcd" --name testbed --data-dir "$TB_STATE/etcd" --unsafe-no-fsync \
	--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster testbed=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
	--log-level warn
tb_wait "etcd health" 30 etcd tb_in_netns curl -sf http://127.0.0.1:2381/health
tb_start kube-apiserver "$bin/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
	--bind-address 0.0.0.0 --secure-port "$TB_API_PORT" --advertise-address "$TB_NODE_IP" \
	--tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
	--client-ca-file "$pki/ca.crt" --service-account-issuer https://kubernetes.default.svc.cluster.local \
	--service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
	--service-cluster-ip-range "$TB_SERVICE_CIDR" --authorization-mode Node,RBAC \
	--enable-admission-plugins NodeRestriction --allow-privileged=true \
	--kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
	--kubelet-client-key "$pki/apiserver-kubelet-client.key" \
	--kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
	--v 1
tb_wait "kube-apiserver /readyz" 90 kube-apiserver tb_in_netns "${kubectl[@]}" get --raw /readyz
tb_log "kube-apiserver ready after $(tb_since "$start")s"
tb_start kube-controller-manager "$bin/kube-controller-manager" \
	--kubeconfig "$pki/kube-controller-manager.kubeconfig" \
	--authentication-kubeconfig "$pki/kube-controller-manager.kubeconfig" \
	--authorization-kubeconfig "$pki/kube-controller-manager.kubeconfig" \
	--bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
	--service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
	--allocate-node-cidrs=true --cluster-cidr "$TB_CLUSTER_CIDR" --node-cidr-mask-size 24 \
	--service-cluster-ip-range "$TB_SERVICE_CIDR" --v 1
tb_start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$pki/kube-scheduler.kubeconfig" \
	--authentication-kubeconfig "$pki/kube-scheduler.kubeconfig" \
	--authorization-kubeconfig "$pki/kube-scheduler.kubeconfig" \
	--bind-address 127.0.0.1 --leader-elect=false --v 1

# OpenShift APIs: the real Route CRD from github.com/openshift/api and
# stand-ins for ImageStream and BuildConfig.
tb_in_netns "${kubectl[@]}" apply -f "$bin/../crds/routes.crd.yaml" \
	-f "$TB_DIR/config/openshift-standins.yaml" >/dev/null

# Images for the node: the pause sandbox and the probe test image
# (busybox-static plus the probe helper), built without any registry.
rootfs=$scratch
install -D -m 0755 "$bin/pause" "$rootfs/pause/pause"
"$TB_DIR/image.sh" "$TB_PAUSE_IMAGE" "$rootfs/pause" "$TB_STATE/images/pause.tar" '["/pause"]'
mkdir -p "$rootfs/probe/bin" "$rootfs/probe/etc" "$rootfs/probe/tmp"
chmod 1777 "$rootfs/probe/tmp"
install -m 0755 /bin/busybox "$bin/probe" "$rootfs/probe/bin/"
for applet in $(/bin/busybox --list); do
	[[ -e $rootfs/probe/bin/$applet ]] || ln -s busybox "$rootfs/probe/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/probe/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/probe/etc/group"
"$TB_DIR/image.sh" "$TB_PROBE_IMAGE" "$rootfs/probe" "$TB_STATE/images/probe.tar" '["/bin/sh"]'

tb_start containerd /usr/bin/containerd --config "$TB_STATE/config/containerd.toml"
tb_wait "containerd" 30 containerd tb_ctr version
tb_ctr images import "$TB_STATE/images/pause.tar" >/dev/null
tb_ctr images import "$TB_STATE/images/probe.tar" >/dev/null
tb_start kubelet "$bin/kubelet" --config "$TB_STATE/config/kubelet.yaml" \
	--kubeconfig "$pki/kubelet.kubeconfig" --hostname-override "$TB_NODE_NAME" --node-ip "$TB_NODE_IP" \
	--root-dir "$TB_STATE/kubelet" --cert-dir "$TB_STATE/kubelet/pki" --v 1
node_ready() {
	[[ $(tb_in_netns "${kubectl[@]}" get node "$TB_NODE_NAME" \
		-o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]
}
tb_wait "node $TB_NODE_NAME Ready" 90 kubelet node_ready
tb_log "node Ready after $(tb_since "$start")s"

tb_start kube-proxy "$bin/kube-proxy" --config "$TB_STATE/config/kube-proxy.yaml" --v 1
tb_start kube-router "$bin/kube-router" --kubeconfig "$pki/kube-router.kubeconfig" \
	--run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
	--enable-ipv4=true --enable-ipv6=false --hostname-override "$TB_NODE_NAME" \
	--service-cluster-ip-range "$TB_SERVICE_CIDR" --metrics-port 0 --v 1

tb_wait "kube-proxy sync" 60 kube-proxy tb_in_netns curl -sf http://127.0.0.1:10256/healthz
tb_wait "kube-router firewall chains" 60 kube-router tb_in_netns iptables -S KUBE-ROUTER-FORWARD
tb_wait "CRDs established" 60 kube-apiserver tb_in_netns "${kubectl[@]}" wait --for condition=Established \
	--timeout 1s crd/routes.route.openshift.io crd/imagestreams.image.openshift.io crd/buildconfigs.build.openshift.io
tb_wait "default ServiceAccount" 60 kube-controller-manager \
	tb_in_netns "${kubectl[@]}" -n default get serviceaccount default
tb_wait "registry" 30 registry tb_in_netns curl -sf "http://$TB_REGISTRY/v2/"

cat >"$TB_STATE/env" <<ENV
# Written by hack/testbed/up.sh; source it (shell) or include it (make).
export KUBECONFIG=$TB_STATE/kubeconfig
export PAUDE_TESTBED_NAME=$TB_NAME
export PAUDE_TESTBED_KUBECONFIG=$TB_STATE/kubeconfig
export PAUDE_TESTBED_NETNS=$TB_NETNS
export PAUDE_TESTBED_NETNS_PATH=$TB_NETNS_PATH
export PAUDE_TESTBED_REGISTRY=$TB_REGISTRY
export PAUDE_TESTBED_NODE=$TB_NODE_NAME
export PAUDE_TESTBED_NODE_IP=$TB_NODE_IP
export PAUDE_TESTBED_IMAGE=$TB_PROBE_IMAGE
export PAUDE_TESTBED_IMAGE_TAR=$TB_STATE/images/probe.tar
export PAUDE_TESTBED_BIN=$bin
export PAUDE_TESTBED_CONTAINERD_SOCK=$TB_CONTAINERD_SOCK
export PAUDE_TESTBED_LOGS=$TB_STATE/logs
ENV
tb_log "up in $(tb_since "$start")s"
tb_log "kubeconfig: $TB_STATE/kubeconfig (reachable inside the network namespace only)"
tb_log "env file:   $TB_STATE/env"
tb_log "shell:      nsenter --net=$TB_NETNS_PATH bash"
