package openshift

import (
	"path"
	"regexp"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

// FieldManager is the server-side apply field manager of every object paude
// writes.
const FieldManager = "paude"

// DefaultNamespace is used when neither the flags, paude.json nor the
// kubeconfig context name a namespace.
const DefaultNamespace = "paude"

// ContainerName is the name of the agent container in a session pod.
const ContainerName = "paude"

// Annotations paude puts on the objects it owns, beside the labels of
// pkg/backend (labels.go) that both backends share.
const (
	AnnotationWorkspace   = backend.KeyWorkspace
	AnnotationCreatedAt   = backend.KeyCreatedAt
	AnnotationIdleTimeout = "paude.io/idle-timeout"
	AnnotationMaxLifetime = "paude.io/max-lifetime"
	AnnotationImage       = "paude.io/image"
	AnnotationAgentArgs   = "paude.io/agent-args"
	AnnotationYolo        = "paude.io/yolo"
	// AnnotationSyncMethod and AnnotationSyncExclude record on the
	// claim how the session's workspace is synced (sync.method, and
	// sync.exclude as a JSON list).
	AnnotationSyncMethod  = "paude.io/sync-method"
	AnnotationSyncExclude = "paude.io/sync-exclude"
	// AnnotationNetwork records a session's network mode on its claim,
	// so that a resume keeps it.
	AnnotationNetwork = backend.LabelNetworkMode
	// AnnotationDefaultContainer makes kubectl exec/logs pick the agent.
	AnnotationDefaultContainer = "kubectl.kubernetes.io/default-container"
)

// Paths inside the session pod.
const (
	// HomeDir is the agent user's HOME in the workspace image.
	HomeDir = image.HomeDir
	// VolumeRoot is where the workspace PVC is mounted.
	VolumeRoot = "/workspace"
	// StateDir is paude's own state on the PVC (the setup marker), outside
	// the project directory so nothing lands in the user's tree.
	StateDir = VolumeRoot + "/.paude"
	// WorkspaceReadyFile is created once the first sync has copied the
	// workspace in; the agent's pane waits for it (image.EnvWaitFile).
	// It is on the claim, so a resumed session does not wait again.
	WorkspaceReadyFile = StateDir + "/workspace-ready"
	// EntrypointPath is the image's entrypoint.
	EntrypointPath = image.EntrypointPath
)

// PodName is the name of a session's pod.
func PodName(id string) string { return "paude-" + id }

// ClaimName is the name of a session's workspace PVC.
func ClaimName(id string) string { return "paude-" + id + "-workspace" }

// projectNameRE is what a host directory name must look like to be reused
// inside the pod; anything else falls back to "project".
var projectNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// WorkspaceDirFor is the project directory inside the pod for a host
// workspace: the host directory's name under VolumeRoot, so the agent sees
// a familiar path, or /workspace/project when the name is unusual.
func WorkspaceDirFor(hostWorkspace string) string {
	name := path.Base(path.Clean("/" + hostWorkspace))
	if !projectNameRE.MatchString(name) || name == path.Base(StateDir) {
		name = "project"
	}
	return path.Join(VolumeRoot, name)
}

// validateID checks a session ID before it reaches any API call.
func validateID(id string) error { return backend.ValidateSessionID(id) }
