//go:build integration

package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// restrictedNamespace enforces the Pod Security "restricted" profile, so
// the API server itself judges paude's pod hardening.
var restrictedNamespace = map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}

// sessionManifests builds every object of a session with the package's
// pure functions, credentials included.
func sessionManifests(t *testing.T, ns, id, img string) []openshift.Object {
	t.Helper()
	home := writeHome(t, map[string]string{
		".config/gcloud/legacy_credentials/me@example.com/adc.json": `{"type":"authorized_user"}`,
		".gitconfig":            "[user]\n\tname = Test\n",
		".claude/settings.json": `{"theme":"dark"}`,
	})
	local, _, err := openshift.ReadCredentials(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg := sessionConfig("", false)
	var objs []openshift.Object
	var mounts []openshift.Credential
	claim, err := openshift.WorkspaceClaimFor(openshift.WorkspaceClaimParams{
		ID: id, Namespace: ns, Volume: cfg.Backend.Workspace, HostWorkspace: "/home/me/proj", Image: img, CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, claim)
	for _, l := range local {
		obj, mount, err := openshift.CredentialObject(l, ns, openshift.SessionCredentialName(id, l.Kind), backend.SessionLabels(id, backend.RoleCredential))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, obj)
		mounts = append(mounts, mount)
	}
	pod, err := openshift.PodFor(openshift.PodParams{
		ID: id, Namespace: ns, Image: img, HostWorkspace: "/home/me/proj", CreatedAt: time.Now(), Config: cfg, Credentials: mounts,
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(objs, pod)
}

// TestOpenShiftApplyTwiceChangesNothing applies every session manifest
// with server-side apply twice: the API server accepts them (the pod
// under the restricted Pod Security profile), records "paude" as the
// field manager, and the second apply changes nothing.
func TestOpenShiftApplyTwiceChangesNothing(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, restrictedNamespace)
	id, err := backend.NewSessionID(time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	objs := sessionManifests(t, ns, id, c.Image)
	first := map[string]string{}
	for _, obj := range objs {
		got, err := openshift.ServerSideApply(ctx, c.Client, obj)
		if err != nil {
			t.Fatalf("first apply of %T %s: %v", obj, obj.GetName(), err)
		}
		first[obj.GetName()] = got.GetResourceVersion()
		var byPaude bool
		for _, mf := range got.GetManagedFields() {
			byPaude = byPaude || (mf.Manager == openshift.FieldManager && mf.Operation == metav1.ManagedFieldsOperationApply)
		}
		if !byPaude {
			t.Errorf("%s: no Apply entry for field manager %q: %+v", obj.GetName(), openshift.FieldManager, got.GetManagedFields())
		}
	}
	// Controllers write status (the scheduler, the volume binder), which
	// moves resourceVersion on their own; once they are done, applying
	// the same manifest again must leave the object untouched. An apply
	// that changed anything would never reach that fixed point.
	for _, obj := range objs {
		prev := first[obj.GetName()]
		deadline := time.Now().Add(time.Minute)
		for {
			got, err := openshift.ServerSideApply(ctx, c.Client, obj)
			if err != nil {
				t.Fatalf("second apply of %s: %v", obj.GetName(), err)
			}
			if got.GetResourceVersion() == prev {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s changes on every apply (resourceVersion %s → %s)", obj.GetName(), prev, got.GetResourceVersion())
			}
			prev = got.GetResourceVersion()
			time.Sleep(500 * time.Millisecond)
		}
	}
	t.Logf("%d objects applied twice; the second apply changed none", len(objs))
}

// TestOpenShiftPodSecurityRejectsWeakerPods proves the restricted
// namespace really judges the hardening: the same pod with any one of the
// hardening fields taken away is rejected.
func TestOpenShiftPodSecurityRejectsWeakerPods(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, restrictedNamespace)
	weaken := map[string]func(*corev1.Pod){
		"privilege escalation": func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil },
		"capabilities kept":    func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.Capabilities = nil },
		"root allowed": func(p *corev1.Pod) {
			p.Spec.SecurityContext.RunAsNonRoot = nil
			p.Spec.Containers[0].SecurityContext.RunAsNonRoot = nil
			p.Spec.InitContainers[0].SecurityContext.RunAsNonRoot = nil
		},
		"no seccomp": func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile = nil
			p.Spec.Containers[0].SecurityContext.SeccompProfile = nil
		},
	}
	ctx := context.Background()
	for name, mutate := range weaken {
		t.Run(name, func(t *testing.T) {
			id, _ := backend.NewSessionID(time.Now(), nil)
			objs := sessionManifests(t, ns, id, c.Image)
			pod := objs[len(objs)-1].(*corev1.Pod)
			mutate(pod)
			_, err := openshift.ServerSideApply(ctx, c.Client, pod)
			if err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
				t.Errorf("weakened pod accepted or rejected for another reason: %v", err)
			}
		})
	}
}
