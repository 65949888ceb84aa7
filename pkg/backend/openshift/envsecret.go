package openshift

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
)

// EnvSecretName is the name of the Secret holding a session's
// environment values from paude.json and the host.
func EnvSecretName(id string) string { return "paude-" + id + "-env" }

// agentEnv is the agent's environment in two parts. Own are paude's
// values (HOME, TERM, PAUDE_*, CLAUDE_CONFIG_DIR), which say nothing
// about the user and are written into the pod. Secret are the values
// from paude.json env (with ${localEnv:...} taken from the host) and the
// host's pass-through variables: they can be tokens, so they live in the
// session's env Secret, since anyone with the namespace's view role can
// read a pod's spec but not a Secret. No name is in both.
type agentEnv struct {
	Own    map[string]string
	Secret map[string]string
}

// agentEnvFor resolves the agent's environment with the layering both
// backends share (backend.NewAgentEnv), plus what a pod needs besides
// the entrypoint's variables: TERM, and the writable Claude config
// directory when the claude credential is there.
func agentEnvFor(p PodParams, cfg *config.Config) (agentEnv, error) {
	own := backend.EntrypointEnv(p.ID, backend.SessionSpec{Config: cfg, Yolo: p.Yolo}, WorkspaceDirFor(p.HostWorkspace), StateDir)
	own["TERM"] = "xterm-256color"
	// The workspace arrives by sync once the pod runs: setup and the
	// agent wait for it.
	own[image.EnvWaitFile] = WorkspaceReadyFile
	if p.Network != nil {
		backend.AddProxyEnv(own)
	}
	// The claude credential is copied into a writable directory the
	// agent must use, whatever the project's env says.
	if slices.ContainsFunc(p.Credentials, func(c Credential) bool { return c.Kind == CredentialClaude }) {
		own["CLAUDE_CONFIG_DIR"] = ClaudeConfigDir
	}
	env := backend.NewAgentEnv(cfg, func(k string) string { return p.HostEnv[k] }, own)
	for k := range env.Passed {
		// Each name is also its key in the env Secret.
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			return agentEnv{}, fmt.Errorf("environment variable name %q cannot be stored in a Secret: %s: use letters, digits and '_'", k, strings.Join(errs, "; "))
		}
	}
	return agentEnv{Own: env.Own, Secret: env.Passed}, nil
}

// envFor is the agent container's env list, sorted by name: paude's own
// values literally, every other value by reference to the env Secret.
func envFor(p PodParams, cfg *config.Config) ([]corev1.EnvVar, error) {
	vars, err := agentEnvFor(p, cfg)
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(vars.Own))
	names = append(names, slices.Collect(maps.Keys(vars.Secret))...)
	slices.Sort(names)
	env := make([]corev1.EnvVar, 0, len(names))
	for _, k := range names {
		if v, ok := vars.Own[k]; ok {
			env = append(env, corev1.EnvVar{Name: k, Value: v})
			continue
		}
		env = append(env, corev1.EnvVar{Name: k, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: EnvSecretName(p.ID)},
				Key:                  k,
			},
		}})
	}
	return env, nil
}

// EnvSecretFor returns the session's env Secret: an Opaque Secret with
// one key per environment value from paude.json or the host, which the
// pod PodFor returns for the same parameters references. It is nil when
// there are no such values. It is labelled as a session credential, so
// stop and cleanup remove it with the others, but it has no
// paude.io/credential kind: it is never mounted.
func EnvSecretFor(p PodParams) (*corev1.Secret, error) {
	cfg := p.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	vars, err := agentEnvFor(p, cfg)
	if err != nil {
		return nil, err
	}
	if len(vars.Secret) == 0 {
		return nil, nil
	}
	secret := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      EnvSecretName(p.ID),
			Namespace: p.Namespace,
			Labels:    backend.SessionLabels(p.ID, backend.RoleCredential),
		},
		Type: corev1.SecretTypeOpaque,
		Data: make(map[string][]byte, len(vars.Secret)),
	}
	for k, v := range vars.Secret {
		secret.Data[k] = []byte(v)
	}
	return secret, nil
}
