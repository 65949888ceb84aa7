#!/usr/bin/env bash
# pki.sh DIR: write a throw-away PKI for the testbed into DIR: a CA, the
# serving certificates (API server, kubelet, registry and its token
# endpoint, the fake internet's host), client certificates and a kubeconfig
# for every component, the service-account signing key, the registry
# token signing key, and the non-admin user's bearer token with its
# kubeconfig. ECDSA P-256 keeps it around a second. Names and addresses come
# from lib.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

dir=${1:?usage: pki.sh DIR}
node=$TB_NODE_NAME
node_ip=$TB_NODE_IP
api_ip=$TB_API_SERVICE_IP
days=30

mkdir -p "$dir"
cd "$dir"
umask 077

newkey() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"; }

# sign NAME SUBJECT EXTENSIONS: issue NAME.crt from the CA.
sign() {
	newkey "$1"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	printf '%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
		-days "$days" -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

client() { sign "$1" "$2" "keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"; }

newkey ca
openssl req -x509 -new -key ca.key -subj /CN=paude-testbed-ca -days "$days" -sha256 -out ca.crt
sign apiserver /CN=kube-apiserver "keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$node_ip,IP:$api_ip"
sign kubelet-serving "/CN=$node" "keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$node,DNS:localhost,IP:127.0.0.1,IP:$node_ip"
# The registry and its token endpoint share one certificate: every name a
# client or the node uses for them.
registry_sans="DNS:$TB_REGISTRY_ROUTE,DNS:${TB_REGISTRY%:*},DNS:${TB_REGISTRY%:*}.$TB_CLUSTER_DOMAIN"
registry_sans+=",DNS:localhost,IP:$node_ip,IP:$TB_REGISTRY_SERVICE_IP,IP:127.0.0.1"
sign registry /CN=paude-testbed-registry "keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$registry_sans"
# The fake internet's host answers for every fake name and address.
fake_sans="DNS:$TB_FAKE_ALLOWED,DNS:*.$TB_FAKE_ALLOWED,DNS:$TB_FAKE_BLOCKED,DNS:*.$TB_FAKE_BLOCKED"
for name in "${TB_FAKE_API_NAMES[@]}"; do fake_sans+=",DNS:$name"; done
fake_sans+=",IP:$TB_INET_IP,IP:$TB_INET_PRIVATE_IP,IP:$TB_INET_METADATA_IP"
sign fakehost /CN=paude-testbed-fakehost "keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$fake_sans"
# Registry tokens are signed by a key of their own, which the registry
# trusts through its rootcertbundle (this self-signed certificate only).
newkey registry-token-signer
openssl req -x509 -new -key registry-token-signer.key -subj /CN=paude-testbed-registry-token-signer \
	-days "$days" -sha256 -out registry-token-signer.crt
client admin /O=system:masters/CN=paude-testbed-admin
client apiserver-kubelet-client /O=system:masters/CN=kube-apiserver-kubelet-client
client kube-controller-manager /CN=system:kube-controller-manager
client kube-scheduler /CN=system:kube-scheduler
client kubelet "/O=system:nodes/CN=system:node:$node"
client kube-proxy /CN=system:kube-proxy
# kube-router is a test-only enforcer; cluster-admin spares it an RBAC file.
client kube-router /O=system:masters/CN=kube-router
client registry-auth /CN=paude-testbed:registry-auth
client local-path-provisioner /CN=paude-testbed:local-path-provisioner
newkey sa
openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
# The non-admin user: a static bearer token (kube-apiserver --token-auth-file).
openssl rand -hex 32 >user.token
printf '%s,%s,%s-uid,"paude-testbed:users"\n' "$(cat user.token)" "$TB_USER" "$TB_USER" >tokens.csv

# kubeconfig NAME: a self-contained kubeconfig for client certificate NAME.
kubeconfig() {
	cat >"$1.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: paude-testbed
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 "$1.crt")
    client-key-data: $(base64 -w0 "$1.key")
contexts:
- name: paude-testbed
  context: {cluster: paude-testbed, user: $1, namespace: default}
current-context: paude-testbed
KUBECONFIG
}
for c in admin kube-controller-manager kube-scheduler kubelet kube-proxy kube-router registry-auth local-path-provisioner; do
	kubeconfig "$c"
done
# Clients outside the cluster use the node IP (see TB_API_CLIENT_SERVER).
sed "s#server: https://127.0.0.1:6443#server: $TB_API_CLIENT_SERVER#" admin.kubeconfig >admin-client.kubeconfig
cat >user.kubeconfig <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: paude-testbed
  cluster:
    server: $TB_API_CLIENT_SERVER
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $TB_USER
  user:
    token: $(cat user.token)
contexts:
- name: paude-testbed-user
  context: {cluster: paude-testbed, user: $TB_USER, namespace: default}
current-context: paude-testbed-user
KUBECONFIG
rm -f ca.srl
