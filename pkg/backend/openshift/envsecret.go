package openshift

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/paude-dev/paude/pkg/config"
)

// PassthroughEnv are host variables copied into the agent's environment
// when set (Vertex AI configuration); paude.json env wins over them.
var PassthroughEnv = []string{
	"CLAUDE_CODE_USE_VERTEX",
	"ANTHROPIC_VERTEX_PROJECT_ID",
	"GOOGLE_CLOUD_PROJECT",
	"CLOUD_ML_REGION",
}

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

// agentEnvFor resolves the agent's environment: host pass-through, then
// paude.json env, then paude's own variables, which nothing overrides.
func agentEnvFor(p PodParams, cfg *config.Config) (agentEnv, error) {
	secret := map[string]string{}
	for _, k := range PassthroughEnv {
		if v, ok := p.HostEnv[k]; ok && v != "" {
			secret[k] = v
		}
	}
	for k, v := range cfg.Env {
		// PAUDE_* carry paude's own settings (agent arguments, yolo):
		// never from the project's env, whatever built the Config.
		if !strings.HasPrefix(k, "PAUDE_") {
			secret[k] = v
		}
	}
	own := map[string]string{
		"HOME":               HomeDir,
		"TERM":               "xterm-256color",
		"PAUDE_SESSION_ID":   p.ID,
		"PAUDE_WORKSPACE":    WorkspaceDirFor(p.HostWorkspace),
		"PAUDE_STATE_DIR":    StateDir,
		"PAUDE_IDLE_TIMEOUT": strconv.FormatInt(int64(cfg.Session.IdleTimeout/time.Second), 10),
		"PAUDE_MAX_LIFETIME": strconv.FormatInt(int64(cfg.Session.MaxLifetime/time.Second), 10),
	}
	if cfg.Setup != "" {
		own["PAUDE_SETUP"] = cfg.Setup
	}
	if p.Yolo {
		own["PAUDE_YOLO"] = "1"
	}
	// The claude credential is copied into a writable directory the
	// agent must use, whatever the project's env says.
	if slices.ContainsFunc(p.Credentials, func(c Credential) bool { return c.Kind == CredentialClaude }) {
		own["CLAUDE_CONFIG_DIR"] = ClaudeConfigDir
	}
	for k := range own {
		delete(secret, k)
	}
	for k := range secret {
		// Each name is also its key in the env Secret.
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			return agentEnv{}, fmt.Errorf("environment variable name %q cannot be stored in a Secret: %s: use letters, digits and '_'", k, strings.Join(errs, "; "))
		}
	}
	return agentEnv{Own: own, Secret: secret}, nil
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
			Labels:    SessionLabels(p.ID, RoleCredential),
		},
		Type: corev1.SecretTypeOpaque,
		Data: make(map[string][]byte, len(vars.Secret)),
	}
	for k, v := range vars.Secret {
		secret.Data[k] = []byte(v)
	}
	return secret, nil
}
