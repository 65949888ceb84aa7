#!/usr/bin/env bash
# pki.sh DIR NODE_NAME NODE_IP API_SERVICE_IP: write a throw-away PKI for the
# testbed into DIR: a CA, the API server's and the kubelet's serving
# certificates, client certificates and a kubeconfig for every component,
# and the service-account signing key. ECDSA P-256 keeps it under a second.
set -euo pipefail

dir=${1:?usage: pki.sh DIR NODE_NAME NODE_IP API_SERVICE_IP}
node=${2:?node name missing}
node_ip=${3:?node IP missing}
api_ip=${4:?API service IP missing}
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
client admin /O=system:masters/CN=paude-testbed-admin
client apiserver-kubelet-client /O=system:masters/CN=kube-apiserver-kubelet-client
client kube-controller-manager /CN=system:kube-controller-manager
client kube-scheduler /CN=system:kube-scheduler
client kubelet "/O=system:nodes/CN=system:node:$node"
client kube-proxy /CN=system:kube-proxy
# kube-router is a test-only enforcer; cluster-admin spares it an RBAC file.
client kube-router /O=system:masters/CN=kube-router
newkey sa
openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null

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
for c in admin kube-controller-manager kube-scheduler kubelet kube-proxy kube-router; do
	kubeconfig "$c"
done
rm -f ca.srl
