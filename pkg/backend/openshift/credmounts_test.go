package openshift

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPodForMounts(t *testing.T) {
	creds := []Credential{
		{Kind: CredentialGcloud, Name: "paude-x-gcloud", Items: []corev1.KeyToPath{{Key: "a.json", Path: "legacy/a.json"}}},
		{Kind: CredentialGitconfig, Name: "paude-x-gitconfig", Items: []corev1.KeyToPath{{Key: "gitconfig", Path: "gitconfig"}}},
		{Kind: CredentialClaude, Name: "paude-x-claude", Items: []corev1.KeyToPath{{Key: "claude.json", Path: "claude.json"}}},
	}
	tests := []struct {
		name       string
		creds      []Credential
		mounts     map[string]corev1.VolumeMount // by mount path, agent container
		initMounts []string
		claudeDir  bool
	}{
		{"no credentials", nil, map[string]corev1.VolumeMount{
			"/workspace": {Name: "workspace", MountPath: "/workspace"},
		}, []string{"/workspace"}, false},
		{"all credentials", creds, map[string]corev1.VolumeMount{
			"/workspace":                 {Name: "workspace", MountPath: "/workspace"},
			"/home/paude/.config/gcloud": {Name: "cred-gcloud", MountPath: "/home/paude/.config/gcloud", ReadOnly: true},
			"/home/paude/.gitconfig":     {Name: "cred-gitconfig", MountPath: "/home/paude/.gitconfig", SubPath: "gitconfig", ReadOnly: true},
			"/home/paude/.claude":        {Name: "claude-home", MountPath: "/home/paude/.claude"},
		}, []string{"/workspace", "/home/paude/.claude-seed", "/home/paude/.claude"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basePodParams()
			p.Credentials = tt.creds
			pod := mustPod(t, p)
			got := map[string]corev1.VolumeMount{}
			for _, m := range pod.Spec.Containers[0].VolumeMounts {
				got[m.MountPath] = m
			}
			if !reflect.DeepEqual(got, tt.mounts) {
				t.Errorf("mounts = %+v\nwant %+v", got, tt.mounts)
			}
			var initPaths []string
			for _, m := range pod.Spec.InitContainers[0].VolumeMounts {
				initPaths = append(initPaths, m.MountPath)
				if m.MountPath == ClaudeSeedMountPath && !m.ReadOnly {
					t.Errorf("claude seed must be read-only")
				}
			}
			if !reflect.DeepEqual(initPaths, tt.initMounts) {
				t.Errorf("init mounts = %v, want %v", initPaths, tt.initMounts)
			}
			_, hasDir := envMap(pod.Spec.Containers[0].Env)["CLAUDE_CONFIG_DIR"]
			if hasDir != tt.claudeDir {
				t.Errorf("CLAUDE_CONFIG_DIR set = %v, want %v", hasDir, tt.claudeDir)
			}
			vols := map[string]corev1.Volume{}
			for _, v := range pod.Spec.Volumes {
				vols[v.Name] = v
			}
			if c := vols["workspace"].PersistentVolumeClaim; c == nil || c.ClaimName != ClaimName(testID) || c.ReadOnly {
				t.Errorf("workspace volume = %+v", vols["workspace"])
			}
			if tt.creds != nil {
				// Every credential is a Secret volume, gitconfig included,
				// its files readable by owner and group only.
				for i, kind := range []string{"gcloud", "gitconfig", "claude"} {
					v := vols["cred-"+kind]
					if v.ConfigMap != nil {
						t.Errorf("%s is mounted from a ConfigMap: %+v", kind, v)
					}
					s := v.Secret
					if s == nil || s.SecretName != "paude-x-"+kind || !reflect.DeepEqual(s.Items, creds[i].Items) {
						t.Errorf("%s volume = %+v", kind, v)
						continue
					}
					if s.DefaultMode == nil || *s.DefaultMode != 0o440 {
						t.Errorf("%s volume mode = %v, want 0440", kind, s.DefaultMode)
					}
				}
				if vols["claude-home"].EmptyDir == nil {
					t.Errorf("claude home must be an emptyDir")
				}
			}
		})
	}
}
