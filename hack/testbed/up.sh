#!/usr/bin/env bash
# up.sh: start a single-node Kubernetes cluster inside the private network
# namespace $PAUDE_TESTBED_NAME (default paude-testbed): etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, containerd +
# kubelet (a real node), kube-proxy (iptables), kube-router (NetworkPolicy
# enforcement only), CoreDNS, local-path-provisioner, a private registry
# with TLS and token auth standing in for OpenShift's integrated one, and
# a fake internet in a second namespace. Writes /var/lib/<name>/kubeconfig
# and /var/lib/<name>/env. If the testbed is already up and healthy it
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
mkdir -p "$TB_STATE"/{logs,pids,config/cni,images,local-path,certs/registry} "$TB_RUN/fakehost-hooks"
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

# The fake internet: a second namespace on the other end of the veth
# tb-inet, TEST-NET-3. Its host also owns a private address and the cloud
# metadata address, routed to it from the cluster's namespace.
tb_in_inet() { nsenter --net="$TB_INET_NETNS_PATH" -- "$@"; }
ip netns add "$TB_INET_NETNS"
tb_in_netns ip link add tb-inet type veth peer name inet0 netns "$TB_INET_NETNS"
tb_in_netns ip addr add "$TB_INET_GATEWAY/24" dev tb-inet
tb_in_netns ip link set tb-inet up
tb_in_inet ip link set lo up
for addr in "$TB_INET_IP/24" "$TB_INET_PRIVATE_IP/32" "$TB_INET_METADATA_IP/32"; do
	tb_in_inet ip addr add "$addr" dev inet0
done
tb_in_inet ip link set inet0 up
tb_in_inet ip route add default via "$TB_INET_GATEWAY"
tb_in_netns ip route add "$TB_INET_PRIVATE_IP/32" via "$TB_INET_IP"
tb_in_netns ip route add "$TB_INET_METADATA_IP/32" via "$TB_INET_IP"

pki=$TB_STATE/pki
"$TB_DIR/pki.sh" "$pki"
cp "$pki/admin-client.kubeconfig" "$TB_STATE/kubeconfig"
cp "$pki/user.kubeconfig" "$TB_STATE/user.kubeconfig"
cp "$pki/user.token" "$TB_STATE/user.token"
cp "$pki/ca.crt" "$TB_STATE/ca.crt"
# podman --cert-dir wants a directory holding the CA as ca.crt.
cp "$pki/ca.crt" "$TB_STATE/certs/registry/ca.crt"

cfg=$TB_STATE/config
tb_render containerd.toml "$cfg/containerd.toml"
tb_render cni.conflist "$cfg/cni/10-$TB_CNI_NETWORK.conflist"
for host in "$TB_REGISTRY" "$TB_REGISTRY_ROUTE"; do
	mkdir -p "$cfg/certs.d/$host"
	tb_render registry-hosts.toml "$cfg/certs.d/$host/hosts.toml" "s#@HOST@#$host#g"
done
for f in registry.yml kubelet.yaml kube-proxy.yaml local-path-config.json local-path-helper-pod.yaml \
	openshift-standins.yaml egressfirewall-crd.yaml registry-standin.yaml coredns.yaml local-path.yaml openshift-uid.yaml; do
	tb_render "$f" "$cfg/$f"
done
# What test processes see as /etc/resolv.conf and /etc/hosts (enter.sh).
tb_render resolv.conf "$TB_STATE/resolv.conf"
{
	cat /etc/hosts
	printf '%s %s\n' "$TB_NODE_IP" "$TB_NODE_NAME"
} >"$TB_STATE/hosts"

tb_start_in "$TB_INET_NETNS_PATH" fakehost "$bin/fakehost" -tls-cert "$pki/fakehost.crt" -tls-key "$pki/fakehost.key" \
	-dns-log "$TB_STATE/logs/fake-dns-queries.log" -hooks "$TB_RUN/fakehost-hooks" -banner-ports 22
tb_start registry /usr/bin/docker-registry serve "$cfg/registry.yml"
tb_start etcd "$bin/etcd" --name testbed --data-dir "$TB_STATE/etcd" --unsafe-no-fsync \
	--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster testbed=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
	--log-level warn
tb_wait "etcd health" 30 etcd tb_in_netns curl -sf http://127.0.0.1:2381/health
tb_start kube-apiserver "$bin/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
	--bind-address 0.0.0.0 --secure-port "$TB_API_PORT" --advertise-address "$TB_NODE_IP" \
	--tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
	--client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
	--service-account-issuer https://kubernetes.default.svc.cluster.local \
	--service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
	--service-cluster-ip-range "$TB_SERVICE_CIDR" --authorization-mode Node,RBAC \
	--enable-admission-plugins NodeRestriction --allow-privileged=true \
	--kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
	--kubelet-client-key "$pki/apiserver-kubelet-client.key" \
	--kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
	--v 1
tb_wait "kube-apiserver /readyz" 90 kube-apiserver tb_in_netns "${kubectl[@]}" get --raw /readyz
tb_log "kube-apiserver ready after $(tb_since "$start")s"
tb_start registry-auth "$bin/registry-auth" -listen "$TB_REGISTRY_AUTH_ADDR" \
	-tls-cert "$pki/registry.crt" -tls-key "$pki/registry.key" -kubeconfig "$pki/registry-auth.kubeconfig" \
	-signing-key "$pki/registry-token-signer.key" -signing-cert "$pki/registry-token-signer.crt" \
	-issuer "$TB_REGISTRY_ISSUER" -service "$TB_REGISTRY_SERVICE"
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

# CRDs first (the real Route CRD from github.com/openshift/api, stand-ins
# for ImageStream and BuildConfig, OVN-Kubernetes's EgressFirewall), then
# the objects that use them: the registry's namespace, Service and Route,
# CoreDNS, the storage class and its provisioner's objects, and the
# arbitrary-UID admission policy.
tb_in_netns "${kubectl[@]}" apply -f "$bin/../crds/routes.crd.yaml" \
	-f "$cfg/openshift-standins.yaml" -f "$cfg/egressfirewall-crd.yaml" >/dev/null
tb_wait "CRDs established" 60 kube-apiserver tb_in_netns "${kubectl[@]}" wait --for condition=Established \
	--timeout 1s crd/routes.route.openshift.io crd/imagestreams.image.openshift.io \
	crd/buildconfigs.build.openshift.io crd/egressfirewalls.k8s.ovn.org
tb_in_netns "${kubectl[@]}" apply -f "$cfg/registry-standin.yaml" -f "$cfg/coredns.yaml" \
	-f "$cfg/local-path.yaml" -f "$cfg/openshift-uid.yaml" >/dev/null
# The registry's names in an image stream's status, as OpenShift's image
# API reports them (status is a subresource: apply cannot set it).
tb_in_netns "${kubectl[@]}" patch imagestream cli -n openshift --subresource=status --type=merge \
	-p "{\"status\":{\"dockerImageRepository\":\"$TB_REGISTRY/openshift/cli\",\"publicDockerImageRepository\":\"$TB_REGISTRY_ROUTE/openshift/cli\"}}" >/dev/null

# Images for the node, built without any registry: the pause sandbox, the
# probe test image (busybox-static plus the probe helper) as root and as
# USER 65534, and CoreDNS.
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
"$TB_DIR/image.sh" "$TB_PROBE_NONROOT_IMAGE" "$rootfs/probe" "$TB_STATE/images/probe-nonroot.tar" '["/bin/sh"]' 65534
install -D -m 0755 "$bin/coredns" "$rootfs/coredns/coredns"
"$TB_DIR/image.sh" "$TB_COREDNS_IMAGE" "$rootfs/coredns" "$TB_STATE/images/coredns.tar" '["/coredns"]'

tb_start containerd /usr/bin/containerd --config "$cfg/containerd.toml"
tb_wait "containerd" 30 containerd tb_ctr version
for image in pause probe probe-nonroot coredns; do
	tb_ctr images import "$TB_STATE/images/$image.tar" >/dev/null
done
tb_start kubelet "$bin/kubelet" --config "$cfg/kubelet.yaml" \
	--kubeconfig "$pki/kubelet.kubeconfig" --hostname-override "$TB_NODE_NAME" --node-ip "$TB_NODE_IP" \
	--root-dir "$TB_STATE/kubelet" --cert-dir "$TB_STATE/kubelet/pki" --v 1
node_ready() {
	[[ $(tb_in_netns "${kubectl[@]}" get node "$TB_NODE_NAME" \
		-o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]
}
tb_wait "node $TB_NODE_NAME Ready" 90 kubelet node_ready
tb_log "node Ready after $(tb_since "$start")s"

tb_start kube-proxy "$bin/kube-proxy" --config "$cfg/kube-proxy.yaml" --v 1
tb_start_kube_router "$bin"
tb_start local-path-provisioner "$bin/local-path-provisioner" start \
	--kubeconfig "$pki/local-path-provisioner.kubeconfig" --provisioner-name rancher.io/local-path \
	--namespace local-path-storage --service-account-name local-path-provisioner-service-account \
	--configmap-name local-path-config --config "$cfg/local-path-config.json" \
	--helper-pod-file "$cfg/local-path-helper-pod.yaml"

# registry_answers: the registry serves TLS and asks for a token.
registry_answers() {
	[[ $(tb_in_netns curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.crt" \
		"https://$TB_REGISTRY_ADDR/v2/") == 401 ]]
}
# registry_auth_answers: the token endpoint accepts the user's token,
# which proves its TokenReview against the API server works.
registry_auth_answers() {
	tb_in_netns curl -sf --cacert "$pki/ca.crt" -u "$TB_USER:$(cat "$pki/user.token")" \
		"https://$TB_REGISTRY_AUTH_ADDR/token?service=$TB_REGISTRY_SERVICE"
}
tb_wait "kube-proxy sync" 60 kube-proxy tb_in_netns curl -sf http://127.0.0.1:10256/healthz
tb_wait "kube-router firewall chains" 60 kube-router tb_in_netns iptables -S KUBE-ROUTER-FORWARD
tb_wait "default ServiceAccount" 60 kube-controller-manager \
	tb_in_netns "${kubectl[@]}" -n default get serviceaccount default
tb_wait "registry" 30 registry registry_answers
tb_wait "registry token endpoint" 30 registry-auth registry_auth_answers
tb_wait "fake internet" 30 fakehost tb_in_netns curl -sf "http://$TB_INET_IP/"
tb_wait "CoreDNS Available" 90 kubelet tb_in_netns "${kubectl[@]}" -n kube-system wait \
	--for condition=Available --timeout 1s deployment/coredns
# Proves the whole path a test process resolves through: enter.sh's
# resolv.conf, the kube-dns ClusterIP (kube-proxy), CoreDNS's hosts plugin.
tb_wait "names through cluster DNS" 60 kube-proxy "$TB_DIR/enter.sh" getent hosts "$TB_FAKE_ALLOWED"

cat >"$TB_STATE/env" <<ENV
# Written by hack/testbed/up.sh; source it (shell) or include it (make).
export KUBECONFIG=$TB_STATE/kubeconfig
export PAUDE_TESTBED_NAME=$TB_NAME
export PAUDE_TESTBED_KUBECONFIG=$TB_STATE/kubeconfig
export PAUDE_TESTBED_NETNS=$TB_NETNS
export PAUDE_TESTBED_NETNS_PATH=$TB_NETNS_PATH
export PAUDE_TESTBED_NODE=$TB_NODE_NAME
export PAUDE_TESTBED_NODE_IP=$TB_NODE_IP
export PAUDE_TESTBED_IMAGE=$TB_PROBE_IMAGE
export PAUDE_TESTBED_IMAGE_NONROOT=$TB_PROBE_NONROOT_IMAGE
export PAUDE_TESTBED_IMAGE_TAR=$TB_STATE/images/probe.tar
export PAUDE_TESTBED_BIN=$bin
export PAUDE_TESTBED_CONTAINERD_SOCK=$TB_CONTAINERD_SOCK
export PAUDE_TESTBED_LOGS=$TB_STATE/logs
export PAUDE_TESTBED_CTL=$TB_DIR/ctl.sh
export PAUDE_TESTBED_PKI=$pki
export PAUDE_TESTBED_CA=$TB_STATE/ca.crt
export PAUDE_TESTBED_USER=$TB_USER
export PAUDE_TESTBED_USER_KUBECONFIG=$TB_STATE/user.kubeconfig
export PAUDE_TESTBED_USER_TOKEN_FILE=$TB_STATE/user.token
export PAUDE_TESTBED_REGISTRY=$TB_REGISTRY
export PAUDE_TESTBED_REGISTRY_ROUTE=$TB_REGISTRY_ROUTE
export PAUDE_TESTBED_REGISTRY_CERT_DIR=$TB_STATE/certs/registry
export PAUDE_TESTBED_REGISTRY_LOG=$TB_STATE/logs/registry.log
export PAUDE_TESTBED_DNS=$TB_DNS_IP
export PAUDE_TESTBED_RESOLV_CONF=$TB_STATE/resolv.conf
export PAUDE_TESTBED_STORAGE_CLASS=$TB_STORAGE_CLASS
export PAUDE_TESTBED_FAKE_NETNS_PATH=$TB_INET_NETNS_PATH
export PAUDE_TESTBED_FAKE_IP=$TB_INET_IP
export PAUDE_TESTBED_FAKE_PRIVATE_IP=$TB_INET_PRIVATE_IP
export PAUDE_TESTBED_FAKE_METADATA_IP=$TB_INET_METADATA_IP
export PAUDE_TESTBED_FAKE_ALLOWED=$TB_FAKE_ALLOWED
export PAUDE_TESTBED_FAKE_BLOCKED=$TB_FAKE_BLOCKED
export PAUDE_TESTBED_FAKE_PRIVATE=$TB_FAKE_PRIVATE
export PAUDE_TESTBED_FAKE_METADATA=$TB_FAKE_METADATA
export PAUDE_TESTBED_FAKE_API_NAMES=$(IFS=,; echo "${TB_FAKE_API_NAMES[*]}")
export PAUDE_TESTBED_FAKE_DNS_LOG=$TB_STATE/logs/fake-dns-queries.log
export PAUDE_TESTBED_FAKE_HOOKS=$TB_RUN/fakehost-hooks
ENV
tb_log "up in $(tb_since "$start")s"
tb_log "kubeconfig: $TB_STATE/kubeconfig (reachable inside the network namespace only)"
tb_log "env file:   $TB_STATE/env"
tb_log "shell:      $TB_DIR/enter.sh (the network namespace, with the testbed's DNS)"
