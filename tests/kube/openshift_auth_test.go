//go:build integration

package kube_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// boundToken creates a ServiceAccount and a Secret in ns and returns a
// token for the account that is valid only while the Secret exists.
func boundToken(t *testing.T, c *kubetest.Cluster, ns, name string) (token string, secret string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	anchor, err := c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-anchor"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			ExpirationSeconds: ptr.To[int64](3600),
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1", Name: anchor.Name, UID: anchor.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("failed to request a token: %v", err)
	}
	return tr.Status.Token, anchor.Name
}

// tokenKubeconfig writes a kubeconfig for the testbed with a bearer token.
func tokenKubeconfig(t testing.TB, c *kubetest.Cluster, ns, token string) string {
	t.Helper()
	ca := c.Config.CAData
	if len(ca) == 0 && c.Config.CAFile != "" {
		var err error
		if ca, err = os.ReadFile(c.Config.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["testbed"] = &clientcmdapi.Cluster{Server: c.Config.Host, CertificateAuthorityData: ca}
	cfg.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["testbed"] = &clientcmdapi.Context{Cluster: "testbed", AuthInfo: "user", Namespace: ns}
	cfg.CurrentContext = "testbed"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// editorKubeconfig is how a developer reaches the cluster: a bearer token
// (as `oc login` gives) for a user with the edit role in ns, which on
// OpenShift includes pushing to the namespace's image streams. The admin
// kubeconfig's client certificate cannot log in to the registry.
func editorKubeconfig(t *testing.T, c *kubetest.Cluster, ns string) string {
	t.Helper()
	return tokenKubeconfig(t, c, ns, c.ServiceAccountToken(t, ns, "kt-editor", "edit"))
}

// TestOpenShiftExpiredTokenSaysLogIn uses a real token that stops being
// valid: once it does, every command says to log in again.
func TestOpenShiftExpiredTokenSaysLogIn(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	token, anchor := boundToken(t, c, ns, "kt-user")
	kubeconfig := tokenKubeconfig(t, c, ns, token)
	b := paudeBackend(t, kubeconfig, ns, openshift.DefaultConfig(), t.TempDir(), &syncBuffer{})
	ctx := context.Background()

	// Valid token, no rights: the server knows who it is and says no.
	_, err := b.ListSessions(ctx)
	var forbidden *openshift.ForbiddenError
	if !errors.As(err, &forbidden) {
		t.Fatalf("with a valid token and no rights: %v, want a ForbiddenError", err)
	}
	if err := c.Client.CoreV1().Secrets(ns).Delete(ctx, anchor, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		b := paudeBackend(t, kubeconfig, ns, openshift.DefaultConfig(), t.TempDir(), &syncBuffer{})
		_, err = b.ListSessions(ctx)
		if backend.IsUnavailable(err) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !backend.IsUnavailable(err) || !strings.Contains(err.Error(), "log in with `oc login` or refresh your kubeconfig") {
		t.Fatalf("with an invalidated token: %v, want the login message", err)
	}
	t.Logf("message: %v", err)
	b = paudeBackend(t, kubeconfig, ns, openshift.DefaultConfig(), t.TempDir(), &syncBuffer{})
	if _, err := b.StartSession(ctx, backend.SessionSpec{Image: c.Image, Workspace: t.TempDir()}); !backend.IsUnavailable(err) {
		t.Errorf("start with an invalidated token: %v, want the login message", err)
	}
}

// documentedRules are the rights docs/OPENSHIFT.md lists for the
// session namespace, and nothing else: no configmaps, on which paude
// needs no right at all. The first rule alone is what the forbidden half
// of the test grants.
var documentedRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"pods", "persistentvolumeclaims", "secrets", "services"},
		Verbs: []string{"get", "list", "watch", "create", "patch", "delete"}},
	{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create"}},
	{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch", "create", "patch", "delete"}},
	{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"get", "list", "watch", "create", "patch", "delete"}},
	{APIGroups: []string{"image.openshift.io"}, Resources: []string{"imagestreams/layers"}, Verbs: []string{"get", "update"}},
}

// TestOpenShiftForbiddenNamesWhatIsMissing gives a user every right a
// session needs but one, and checks that start names exactly that one
// (from a real SelfSubjectAccessReview) and creates nothing. Then it
// grants exactly the rights the documentation lists, without any on
// configmaps, and checks that setup and a real session with a gitconfig
// work for that user.
func TestOpenShiftForbiddenNamesWhatIsMissing(t *testing.T) {
	c := kubetest.Require(t)
	img := workspaceImage(t)
	ns := c.Namespace(t, nil)
	class := workspaceStorage(t, c, 1)
	token, _ := boundToken(t, c, ns, "kt-user")
	ctx := context.Background()
	// pods/exec deliberately missing.
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "kt-almost-edit"}, Rules: documentedRules[:1]}
	if _, err := c.Client.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kt-almost-edit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "kt-almost-edit"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "kt-user", Namespace: ns}},
	}
	if _, err := c.Client.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	home := writeHome(t, map[string]string{".gitconfig": "[user]\n\tname = Limited User\n"})
	kubeconfig := tokenKubeconfig(t, c, ns, token)
	progress := &syncBuffer{}
	b := paudeBackend(t, kubeconfig, ns, sessionConfig(class, false), home, progress)
	ws := hostWorkspace(t, "proj")
	deadline := time.Now().Add(time.Minute)
	var err error
	for {
		// RBAC caches settle quickly but not instantly.
		_, err = b.StartSession(ctx, backend.SessionSpec{Image: img, Workspace: ws})
		var forbidden *openshift.ForbiddenError
		if errors.As(err, &forbidden) && forbidden.Resource == "pods/exec" || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	want := `user "system:serviceaccount:` + ns + `:kt-user" is not allowed to create pods/exec in namespace "` + ns + `"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	for _, kind := range []string{"pods", "persistentvolumeclaims", "secrets", "configmaps"} {
		n := 0
		switch kind {
		case "pods":
			l, _ := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			n = len(l.Items)
		case "persistentvolumeclaims":
			l, _ := c.Client.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
			n = len(l.Items)
		case "secrets":
			l, _ := c.Client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: backend.LabelApp + "=" + backend.AppName})
			n = len(l.Items)
		case "configmaps":
			l, _ := c.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: backend.LabelApp + "=" + backend.AppName})
			n = len(l.Items)
		}
		if n != 0 {
			t.Errorf("%d %s created by a start that was not allowed", n, kind)
		}
	}

	// Exactly the documented rights: setup and a session work.
	role.Rules = documentedRules
	if _, err := c.Client.RbacV1().Roles(ns).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		out.Reset()
		err = b.Setup(ctx, &out)
		var forbidden *openshift.ForbiddenError
		if !errors.As(err, &forbidden) || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || !strings.Contains(out.String(), "Saved gitconfig credentials from ~/.gitconfig in secret paude-gitconfig") {
		t.Fatalf("setup with the documented rights: %v\n%s", err, out.String())
	}
	s, err := b.StartSession(ctx, backend.SessionSpec{Image: img, Workspace: ws})
	if err != nil {
		t.Fatalf("start with the documented rights: %v\nprogress:\n%s", err, progress)
	}
	if got, err := execIn(t, c, ns, s.ID, "git config --global user.name"); err != nil || got != "Limited User\n" {
		t.Errorf("git config --global user.name = %q, %v", got, err)
	}
	if err := b.StopSession(ctx, s.ID); err != nil {
		t.Errorf("stop with the documented rights: %v", err)
	}
	if left := labelledObjects(t, c, ns, s.ID); len(left) != 0 {
		t.Errorf("objects left after stop: %v", left)
	}
	if l, err := c.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: backend.LabelApp + "=" + backend.AppName}); err != nil || len(l.Items) != 0 {
		t.Errorf("paude created ConfigMaps: %v, %v", l, err)
	}
}
