package openshift

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// AgentNetwork is a session pod's place behind its allowlist's proxy.
type AgentNetwork struct {
	// Hash is the allowlist's hash, which the policies select by.
	Hash string
	// ProxyIP is the proxy Service's address, the agent's "paude-proxy".
	ProxyIP string
	// ClusterDNS gives the agent the cluster's DNS (network.clusterDNS).
	ClusterDNS bool
	// CheckSeconds bounds the egress check (0 = 60 seconds).
	CheckSeconds int
}

// egressCheckContainer is the name of the init container that proves
// the pod's egress policy is enforced before the agent starts.
const egressCheckContainer = "egress-check"

// egressCheckExit is its exit code when enforcement never showed.
const egressCheckExit = 3

// egressCheckScript connects, at once and again each second, to two
// addresses the agent's policy forbids and every pod can otherwise reach:
// the API server's ClusterIP and the node's kubelet. It ends 0 as soon as
// both fail in the same round, and 3, saying what it reached, when that
// has not happened by the deadline. Network plugins apply a new pod's
// rules a moment after it starts, so the first rounds may well connect.
const egressCheckScript = `set -u
deadline=$(( $(date +%s) + PAUDE_CHECK_SECONDS ))
probe() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && echo " $3 ($1:$2)"; }
while :; do
  reached=$( { probe "$KUBERNETES_SERVICE_HOST" "$KUBERNETES_SERVICE_PORT" "the API server" & probe "$PAUDE_NODE_IP" 10250 "the node's kubelet" & wait; } )
  if [ -z "$reached" ]; then echo "paude: the pod's egress policy is enforced"; exit 0; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "paude: after ${PAUDE_CHECK_SECONDS}s the pod still reached$reached" >&2; exit 3; fi
  sleep 1
done
`

// egressCheckFor is the init container that runs egressCheckScript.
func egressCheckFor(img string, n *AgentNetwork, resources corev1.ResourceRequirements) corev1.Container {
	secs := n.CheckSeconds
	if secs <= 0 {
		secs = 60
	}
	return corev1.Container{
		Name:    egressCheckContainer,
		Image:   img,
		Command: []string{"/bin/bash", "-c", egressCheckScript},
		Env: []corev1.EnvVar{
			{Name: "PAUDE_CHECK_SECONDS", Value: strconv.Itoa(secs)},
			{Name: "PAUDE_NODE_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
		},
		Resources:                resources,
		SecurityContext:          hardened(),
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// initContainers are the egress check, behind a proxy, then prepare.
func initContainers(p PodParams, prepare corev1.Container, resources corev1.ResourceRequirements) []corev1.Container {
	if p.Network == nil {
		return []corev1.Container{prepare}
	}
	return []corev1.Container{egressCheckFor(p.Image, p.Network, resources), prepare}
}
