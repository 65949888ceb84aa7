package backend

// Labels on every object paude creates, the same on Podman and
// Kubernetes. app=paude marks them all; the role says which kind of object
// it is. Values that are no valid label value on Kubernetes (paths, times)
// use the Key* names: as labels on Podman, as annotations on Kubernetes.
const (
	LabelApp = "app"
	AppName  = "paude"
	// LabelRole is one of the Role* values.
	LabelRole = "paude.io/role"
	// LabelSessionID marks the objects of one session.
	LabelSessionID = "paude.io/session-id"
	// LabelNetworkMode is NetworkProxy or NetworkOpen (--allow-network).
	LabelNetworkMode = "paude.io/network"
	// LabelProxyConfig is the hash of a proxy's configuration, compared
	// to decide whether a running proxy can be reused.
	LabelProxyConfig = "paude.io/proxy-config"
	// LabelCredential marks credential objects with their kind.
	LabelCredential = "paude.io/credential"
	// LabelAllowlist is the hash of an allowlist (image.AllowlistHash):
	// on a proxy, the list it enforces; on an agent, the proxy it uses.
	LabelAllowlist = "paude.io/allowlist"

	// KeyWorkspace is the absolute host path of a session's workspace.
	KeyWorkspace = "paude.io/workspace"
	// KeyCreatedAt is when a session started, in RFC 3339.
	KeyCreatedAt = "paude.io/created-at"
)

// Roles, the values of LabelRole.
const (
	RoleAgent      = "agent"
	RoleProxy      = "proxy"
	RoleNetwork    = "network"
	RoleState      = "state"
	RoleVenv       = "venv"
	RoleWorkspace  = "workspace"
	RoleCredential = "credential"
	// RoleRegistry marks a namespace's pull secret for paude's images.
	RoleRegistry = "registry"
	// RoleGit is a session's own git repository (the git boundary).
	RoleGit = "git"
)

// SessionLabels are the labels of a session's object with the given role.
func SessionLabels(id, role string) map[string]string {
	return map[string]string{LabelApp: AppName, LabelRole: role, LabelSessionID: id}
}

// SessionSelector selects every object of one session.
func SessionSelector(id string) string {
	return LabelApp + "=" + AppName + "," + LabelSessionID + "=" + id
}

// AllSessionsSelector selects every session-scoped object paude created.
const AllSessionsSelector = LabelApp + "=" + AppName + "," + LabelSessionID
