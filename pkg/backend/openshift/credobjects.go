package openshift

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/paude-dev/paude/pkg/backend"
)

// AnnotationPaths records a credential Secret's key → path items as JSON,
// so a persistent Secret created by the setup command can be mounted later
// without reading the user's home again.
const AnnotationPaths = "paude.io/paths"

// Mount points of credentials in the session pod, all under HomeDir.
const (
	GcloudMountPath    = HomeDir + "/.config/gcloud"
	GitconfigMountPath = HomeDir + "/.gitconfig"
	// ClaudeSeedMountPath is where the init container reads the claude
	// Secret before copying it into the writable ClaudeConfigDir.
	ClaudeSeedMountPath = HomeDir + "/.claude-seed"
	// ClaudeConfigDir is the agent's writable config directory.
	ClaudeConfigDir = HomeDir + "/.claude"
)

// Credential is a credential Secret a session pod mounts.
type Credential struct {
	Kind CredentialKind
	// Name is the Secret's name.
	Name string
	// Items map Secret keys to paths below the mount point.
	Items []corev1.KeyToPath
}

// SessionCredentialName is the name of a session's credential Secret.
func SessionCredentialName(id string, kind CredentialKind) string {
	return "paude-" + id + "-" + string(kind)
}

// PersistentCredentialName is the name of the namespace-wide credential
// Secret the setup command creates.
func PersistentCredentialName(kind CredentialKind) string {
	return "paude-" + string(kind)
}

// invalidKeyChars are the characters a Secret key may not hold.
var invalidKeyChars = regexp.MustCompile(`[^-._a-zA-Z0-9]`)

// keysFor gives every file a valid, unique Secret key, readable where
// possible ("legacy_credentials/a@b/adc.json" → "legacy_credentials.a_b.adc.json").
func keysFor(files []CredentialFile) []string {
	keys := make([]string, len(files))
	used := map[string]bool{}
	for i, f := range files {
		key := invalidKeyChars.ReplaceAllString(strings.ReplaceAll(f.Path, "/", "."), "_")
		if strings.HasPrefix(key, "..") || key == "." {
			key = "_" + key
		}
		if len(key) > 200 {
			sum := sha256.Sum256([]byte(f.Path))
			key = key[:180] + "-" + hex.EncodeToString(sum[:6])
		}
		base := key
		for n := 2; used[key]; n++ {
			key = fmt.Sprintf("%s-%d", base, n)
		}
		used[key] = true
		keys[i] = key
	}
	return keys
}

// pathItems gives every file of a credential its Secret key and returns
// the key → path items with their JSON encoding, the value of the
// AnnotationPaths annotation.
func pathItems(files []CredentialFile) ([]corev1.KeyToPath, string, error) {
	keys := keysFor(files)
	items := make([]corev1.KeyToPath, len(files))
	for i, f := range files {
		// Secret keys follow the same rules as ConfigMap keys.
		if errs := validation.IsConfigMapKey(keys[i]); len(errs) > 0 {
			return nil, "", fmt.Errorf("failed to name %s in a Secret: %s", f.Path, strings.Join(errs, "; "))
		}
		items[i] = corev1.KeyToPath{Key: keys[i], Path: f.Path}
	}
	paths, err := json.Marshal(items)
	if err != nil {
		return nil, "", fmt.Errorf("failed to encode credential paths: %w", err)
	}
	return items, string(paths), nil
}

// CredentialObject builds the Opaque Secret for a local credential, every
// kind alike: a gitconfig can hold tokens (url.<…>.insteadOf with a
// password, http.extraHeader, credential helper settings), and a
// ConfigMap would show them to anyone with the namespace's view role.
// name is the Secret's name, labels its labels. The returned Credential
// says how to mount it.
func CredentialObject(cred LocalCredential, namespace, name string, labels map[string]string) (Object, Credential, error) {
	items, paths, err := pathItems(cred.Files)
	if err != nil {
		return nil, Credential{}, err
	}
	secret := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   namespace,
			Labels:      withLabel(labels, backend.LabelCredential, string(cred.Kind)),
			Annotations: map[string]string{AnnotationPaths: paths},
		},
		Type: corev1.SecretTypeOpaque,
		Data: make(map[string][]byte, len(items)),
	}
	for i, f := range cred.Files {
		secret.Data[items[i].Key] = f.Data
	}
	return secret, Credential{Kind: cred.Kind, Name: name, Items: items}, nil
}

// CredentialFromObject rebuilds the mount description of an existing
// credential Secret from its labels and paths annotation.
func CredentialFromObject(obj metav1.Object) (Credential, error) {
	kind := CredentialKind(obj.GetLabels()[backend.LabelCredential])
	var items []corev1.KeyToPath
	if err := json.Unmarshal([]byte(obj.GetAnnotations()[AnnotationPaths]), &items); err != nil || len(items) == 0 {
		return Credential{}, fmt.Errorf("credential secret %s has no valid %s annotation", obj.GetName(), AnnotationPaths)
	}
	for _, it := range items {
		if err := checkItemPath(it.Path); err != nil {
			return Credential{}, fmt.Errorf("credential secret %s: %w", obj.GetName(), err)
		}
	}
	return Credential{Kind: kind, Name: obj.GetName(), Items: items}, nil
}

// checkItemPath refuses item paths that would leave the mount point.
func checkItemPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "..") {
		return fmt.Errorf("invalid item path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("invalid item path %q", p)
		}
	}
	return nil
}

// withLabel copies labels and adds one.
func withLabel(labels map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out[key] = value
	return out
}
