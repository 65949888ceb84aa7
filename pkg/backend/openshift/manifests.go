package openshift

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// PodParams is everything PodFor needs to describe a session pod.
type PodParams struct {
	ID        string
	Namespace string
	Image     string
	// HostWorkspace is the absolute path of the project on the user's
	// machine; it is recorded and names the directory inside the pod.
	HostWorkspace string
	AgentArgs     []string
	Yolo          bool
	CreatedAt     time.Time
	// Config supplies resources, env, setup and the session limits.
	Config *config.Config
	// HostEnv are the backend.PassthroughEnv values found on the host. They and
	// Config.Env reach the pod through the EnvSecretFor Secret.
	HostEnv map[string]string
	// Credentials are the objects to mount.
	Credentials []Credential
	// PullSecret names the pull secret of the pod's image, "" for none.
	PullSecret string
	// Network is how the agent reaches the network behind its proxy;
	// nil means --allow-network: no proxy, the pod's own egress.
	Network *AgentNetwork
}

// Volume names in the session pod.
const (
	workspaceVolume  = "workspace"
	claudeHomeVolume = "claude-home"
)

// PodFor returns the session pod. It is a pure function: the same
// parameters always give the same pod. Resources that do not parse are
// an error. Environment values from paude.json and the host are
// references to the EnvSecretFor Secret, never literal values.
func PodFor(p PodParams) (*corev1.Pod, error) {
	cfg := p.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	resources := ResourcesFor(cfg.Backend.Resources)
	volumes := []corev1.Volume{{
		Name: workspaceVolume,
		VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: ClaimName(p.ID)},
		},
	}}
	workspaceMount := corev1.VolumeMount{Name: workspaceVolume, MountPath: VolumeRoot}
	mounts := []corev1.VolumeMount{workspaceMount}
	initMounts := []corev1.VolumeMount{workspaceMount}
	env, err := envFor(p, cfg)
	if err != nil {
		return nil, err
	}
	for _, cred := range p.Credentials {
		vol, mount, seed := credentialVolume(cred)
		volumes = append(volumes, vol...)
		mounts = append(mounts, mount...)
		if seed != nil {
			initMounts = append(initMounts, *seed, mount[0])
		}
	}
	// The init container makes the project and state directories on the
	// claim as the pod's user (so they are writable whatever UID the
	// platform assigns) and seeds the agent's config directory.
	prepare := corev1.Container{
		Name:                     "prepare",
		Image:                    p.Image,
		Command:                  []string{"/bin/sh", "-c", prepareScript},
		Env:                      []corev1.EnvVar{{Name: "PAUDE_WORKSPACE", Value: WorkspaceDirFor(p.HostWorkspace)}, {Name: "PAUDE_STATE_DIR", Value: StateDir}},
		Resources:                resources,
		VolumeMounts:             initMounts,
		SecurityContext:          hardened(),
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}

	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      PodName(p.ID),
			Namespace: p.Namespace,
			Labels:    backend.SessionLabels(p.ID, backend.RoleAgent),
			Annotations: map[string]string{
				AnnotationWorkspace:        p.HostWorkspace,
				AnnotationCreatedAt:        p.CreatedAt.UTC().Format(time.RFC3339),
				AnnotationIdleTimeout:      durationString(cfg.Session.IdleTimeout),
				AnnotationMaxLifetime:      durationString(cfg.Session.MaxLifetime),
				AnnotationDefaultContainer: ContainerName,
			},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			AutomountServiceAccountToken: ptr.To(false),
			EnableServiceLinks:           ptr.To(false),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			ImagePullSecrets: pullSecrets(p.PullSecret),
			InitContainers:   initContainers(p, prepare, resources),
			Containers: []corev1.Container{{
				Name:  ContainerName,
				Image: p.Image,
				// "--" keeps agent arguments such as "attach" from
				// selecting an entrypoint mode.
				Args:            append([]string{"--"}, p.AgentArgs...),
				Stdin:           true,
				TTY:             true,
				Env:             env,
				Resources:       resources,
				VolumeMounts:    mounts,
				SecurityContext: hardened(),
				StartupProbe:    agentStartupProbe(startTimeout(cfg)),
				// A failed start shows the entrypoint's last words.
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			}},
			Volumes: volumes,
		},
	}
	if secs := backend.Seconds(cfg.Session.MaxLifetime); secs > 0 {
		pod.Spec.ActiveDeadlineSeconds = ptr.To(secs)
	}
	pod.Labels[backend.LabelNetworkMode] = backend.NetworkOpen
	if n := p.Network; n != nil {
		pod.Labels[backend.LabelNetworkMode] = backend.NetworkProxy
		pod.Labels[backend.LabelAllowlist] = n.Hash
		pod.Spec.HostAliases = proxyHost(n.ProxyIP)
		if !n.ClusterDNS {
			// No resolver at all: the agent looks nothing up, so DNS
			// carries nothing out. Queries to 127.0.0.1 find no server.
			pod.Spec.DNSPolicy = corev1.DNSNone
			pod.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"127.0.0.1"}}
		}
	}
	return pod, nil
}

// agentStartupProbe keeps the pod from being Ready until the
// entrypoint has created the agent's tmux session, so an attach right
// after a start always finds it (and never races the entrypoint to
// create it). It asks the entrypoint's status mode, which every paude
// image has, once a second for up to the start timeout; once it has
// succeeded the kubelet never runs it again. A check may take 2 s at
// most (it answers in milliseconds), so a wedged tmux still fails the
// pod within a few start timeouts instead of ten.
func agentStartupProbe(timeout time.Duration) *corev1.Probe {
	attempts := int32(min(max(timeout/time.Second, 1), 1<<30))
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{
			Command: []string{"/bin/sh", "-c", `test "$(` + EntrypointPath + ` status)" = running`},
		}},
		PeriodSeconds:    1,
		TimeoutSeconds:   2,
		FailureThreshold: attempts,
	}
}

// hardened is the container security context of decision 4: no UID
// pinned (OpenShift assigns one), nothing gained at run time.
func hardened() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// readOnlyRoot makes a container's root file system read-only.
func readOnlyRoot(sc *corev1.SecurityContext) *corev1.SecurityContext {
	sc.ReadOnlyRootFilesystem = ptr.To(true)
	return sc
}

// credentialFileMode is the mode of credential files in the pod:
// readable by their owner and group 0, in which the agent runs under any
// UID (and by the pod's fsGroup, which the kubelet adds where one is
// set), never by others.
const credentialFileMode int32 = 0o440

// credentialVolume returns the volume and mounts for one credential
// Secret, read-only under HomeDir. The claude credential is not mounted
// into the agent, which must write its config: the init container copies
// the read-only Secret (seed, mounted there only) into a writable
// emptyDir, as the Podman backend copies it into the container.
func credentialVolume(cred Credential) (vols []corev1.Volume, mounts []corev1.VolumeMount, seed *corev1.VolumeMount) {
	name := "cred-" + string(cred.Kind)
	vols = []corev1.Volume{{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName:  cred.Name,
		Items:       slices.Clone(cred.Items),
		DefaultMode: ptr.To(credentialFileMode),
	}}}}
	switch cred.Kind {
	case CredentialGcloud:
		return vols, []corev1.VolumeMount{{Name: name, MountPath: GcloudMountPath, ReadOnly: true}}, nil
	case CredentialGitconfig:
		sub := "gitconfig"
		if len(cred.Items) > 0 {
			sub = cred.Items[0].Path
		}
		return vols, []corev1.VolumeMount{{Name: name, MountPath: GitconfigMountPath, SubPath: sub, ReadOnly: true}}, nil
	case CredentialClaude:
		vols = append(vols, corev1.Volume{Name: claudeHomeVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		return vols, []corev1.VolumeMount{{Name: claudeHomeVolume, MountPath: ClaudeConfigDir}},
			&corev1.VolumeMount{Name: name, MountPath: ClaudeSeedMountPath, ReadOnly: true}
	}
	return nil, nil, nil
}

// prepareScript is the init container's program. Secret volumes keep
// their data under "..data"-style entries, which the globs skip; -L
// copies file contents, not the volume's symlinks. The copies belong to
// the pod's user but keep the Secret's read-only mode, so each is made
// writable for that user (not the emptyDir itself, which is root's): the
// agent writes its config.
const prepareScript = `set -eu
if ! mkdir -p "$PAUDE_WORKSPACE" "$PAUDE_STATE_DIR"; then
  echo "paude: the workspace volume is not writable by uid $(id -u) gid $(id -g): the image must run in group 0 and the volume must be group-writable (fsGroup)" >&2
  exit 1
fi
seed=` + ClaudeSeedMountPath + `
dest=` + ClaudeConfigDir + `
if [ -d "$seed/claude" ]; then
  for f in "$seed"/claude/* "$seed"/claude/.[!.]*; do
    [ -e "$f" ] || continue
    cp -RL "$f" "$dest/"
    chmod -R u+w "$dest/${f##*/}"
  done
fi
if [ -f "$seed/claude.json" ]; then
  cp -L "$seed/claude.json" "$dest/.claude.json"
  chmod u+w "$dest/.claude.json"
fi
`

// WorkspaceClaimParams is everything WorkspaceClaimFor needs.
type WorkspaceClaimParams struct {
	ID            string
	Namespace     string
	Volume        config.WorkspaceVolume
	HostWorkspace string
	// Image, AgentArgs and Yolo are recorded so the session can be
	// resumed on this claim after its pod is gone.
	Image     string
	AgentArgs []string
	Yolo      bool
	CreatedAt time.Time
	// PullSecretHost is the registry the image is pulled from through
	// the namespace's pull secret, which a resume refreshes; "" = none.
	PullSecretHost string
	// OpenNetwork records --allow-network, which a resume keeps.
	OpenNetwork bool
	// Sync is the workspace sync the session was started with (its
	// configuration was trusted then): later commands sync it the same
	// way, whatever directory they run in.
	Sync config.Sync
}

// pullSecrets is a pod's imagePullSecrets: the named one, or none.
func pullSecrets(name string) []corev1.LocalObjectReference {
	if name == "" {
		return nil
	}
	return []corev1.LocalObjectReference{{Name: name}}
}

// WorkspaceClaimFor returns the session's workspace PVC: ReadWriteOnce,
// the configured size (10Gi by default) and storage class (the cluster
// default when empty). It is a pure function.
func WorkspaceClaimFor(p WorkspaceClaimParams) (*corev1.PersistentVolumeClaim, error) {
	args, err := json.Marshal(append([]string{}, p.AgentArgs...))
	if err != nil {
		return nil, fmt.Errorf("failed to record agent arguments: %w", err)
	}
	excludes, err := json.Marshal(append([]string{}, p.Sync.Exclude...))
	if err != nil {
		return nil, fmt.Errorf("failed to record sync.exclude: %w", err)
	}
	pvc := &corev1.PersistentVolumeClaim{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      ClaimName(p.ID),
			Namespace: p.Namespace,
			Labels:    backend.SessionLabels(p.ID, backend.RoleWorkspace),
			Annotations: map[string]string{
				AnnotationWorkspace:   p.HostWorkspace,
				AnnotationCreatedAt:   p.CreatedAt.UTC().Format(time.RFC3339),
				AnnotationImage:       p.Image,
				AnnotationAgentArgs:   string(args),
				AnnotationYolo:        strconv.FormatBool(p.Yolo),
				AnnotationSyncMethod:  p.Sync.Method,
				AnnotationSyncExclude: string(excludes),
			},
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: p.Volume.Size},
			},
		},
	}
	if p.Volume.StorageClass != "" {
		pvc.Spec.StorageClassName = ptr.To(p.Volume.StorageClass)
	}
	if p.PullSecretHost != "" {
		pvc.Annotations[AnnotationPullSecret] = p.PullSecretHost
	}
	pvc.Annotations[AnnotationNetwork] = backend.NetworkProxy
	if p.OpenNetwork {
		pvc.Annotations[AnnotationNetwork] = backend.NetworkOpen
	}
	return pvc, nil
}

// durationString records a limit; "0" means never.
func durationString(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return d.String()
}
