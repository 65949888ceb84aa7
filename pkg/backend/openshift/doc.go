// Package openshift is paude's OpenShift/Kubernetes backend. Every cluster
// operation goes through client-go: manifests are built by pure functions
// (PodFor, WorkspaceClaimFor, CredentialObjects...), applied with
// server-side apply under the field manager "paude", watched (not polled)
// until Ready, and attached to through the pod exec subresource over
// WebSocket with an SPDY fallback. The agent runs in tmux inside the pod,
// so a session survives a closed laptop; its workspace lives on a
// PersistentVolumeClaim, so a session whose pod is gone can be resumed.
package openshift
