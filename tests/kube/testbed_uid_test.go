//go:build integration

package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// uidRange is the namespace annotation OpenShift sets on every project.
const uidRange = "openshift.io/sa.scc.uid-range"

// TestArbitraryUID proves the testbed's stand-in for OpenShift's
// restricted-v2 SCC: in a namespace with a UID range, a pod that names no
// user runs as the range's first UID with group 0 and that fsGroup, whatever
// the image's USER says; a pod that names its user keeps it; in a plain
// namespace the image's USER applies.
func TestArbitraryUID(t *testing.T) {
	c := kubetest.Require(t)
	openshiftNS := c.Namespace(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), kubetest.PodTimeout)
	defer cancel()
	nsObj, err := c.Client.CoreV1().Namespaces().Get(ctx, openshiftNS, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nsObj.Annotations = map[string]string{uidRange: "1000650000/10000"}
	if _, err := c.Client.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("failed to annotate namespace %s: %v", openshiftNS, err)
	}
	plainNS := c.Namespace(t, nil)
	explicit := int64(1000650007)

	tests := []struct {
		name    string
		ns      string
		user    *int64
		wantID  string
		wantUID *int64 // runAsUser in the stored pod spec
	}{
		{"OpenShift namespace, no user", openshiftNS, nil, "uid=1000650000 gid=0(root) groups=0(root),1000650000", ptrTo(int64(1000650000))},
		{"OpenShift namespace, explicit user", openshiftNS, &explicit, "uid=1000650007 gid=0(root) groups=0(root),1000650000", &explicit},
		{"plain namespace, image user", plainNS, nil, "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "id-" + string(rune('a'+i))
			p := c.ProbePod(name, nil, "id")
			p.Spec.Containers[0].Image = c.NonRootImage
			if tt.user != nil {
				p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: tt.user}
			}
			created, err := c.Client.CoreV1().Pods(tt.ns).Create(ctx, p, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("failed to create pod: %v", err)
			}
			got := created.Spec.SecurityContext.RunAsUser
			if (got == nil) != (tt.wantUID == nil) || (got != nil && *got != *tt.wantUID) {
				t.Errorf("stored runAsUser = %v, want %v", deref(got), deref(tt.wantUID))
			}
			done, err := c.WaitPod(ctx, tt.ns, name, kubetest.IsDone)
			if err != nil || done.Status.Phase != corev1.PodSucceeded {
				t.Fatalf("pod did not succeed: %v %s", err, kubetest.PodSummary(done))
			}
			logCtx, logCancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer logCancel()
			logs, err := c.Client.CoreV1().Pods(tt.ns).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(logCtx)
			if err != nil {
				t.Fatal(err)
			}
			if id := strings.TrimSpace(string(logs)); id != tt.wantID {
				t.Errorf("id printed %q, want %q", id, tt.wantID)
			}
		})
	}
}

// deref renders an optional UID for messages.
func deref(v *int64) any {
	if v == nil {
		return "unset"
	}
	return *v
}
