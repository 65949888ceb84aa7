//go:build integration

package kube_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// TestOpenShiftLimitsEndSessionsAndCleanupRemovesThem starts three
// sessions: one with an idle timeout, one with a max lifetime (both
// seconds) and one with "0" for both. The first two end on their own in
// the cluster, with no client connected; the third keeps running.
// `paude cleanup` then removes the two ended sessions and everything they
// left, and leaves the running one alone.
func TestOpenShiftLimitsEndSessionsAndCleanupRemovesThem(t *testing.T) {
	c := kubetest.Require(t)
	img := workspaceImage(t)
	ns := c.Namespace(t, restrictedNamespace)
	kubeconfig := editorKubeconfig(t, c, ns)
	class := workspaceStorage(t, c, 3)
	home := writeHome(t, map[string]string{".gitconfig": "[user]\n"})
	ctx := context.Background()
	limits := map[string]config.Session{
		"idle": {IdleTimeout: 3 * time.Second},
		// The lifetime counts from the pod's start, init containers (the
		// egress check) included: long enough to get Ready under load.
		"max":     {MaxLifetime: 20 * time.Second},
		"forever": {},
	}
	ids := map[string]string{}
	ready := map[string]time.Time{}
	var b *openshift.Backend
	for _, name := range []string{"idle", "max", "forever"} {
		cfg := sessionConfig(class, true)
		cfg.Session = limits[name]
		b = paudeBackend(t, kubeconfig, ns, cfg, home, &syncBuffer{})
		s, err := b.StartSession(ctx, backend.SessionSpec{Image: img, Workspace: hostWorkspace(t, name)})
		if err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		ids[name], ready[name] = s.ID, time.Now()
	}
	for name, wantDeadline := range map[string]*int64{"idle": nil, "max": ptrTo(int64(20)), "forever": nil} {
		pod, err := c.Client.CoreV1().Pods(ns).Get(ctx, openshift.PodName(ids[name]), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := pod.Spec.ActiveDeadlineSeconds
		if (got == nil) != (wantDeadline == nil) || got != nil && *got != *wantDeadline {
			t.Errorf("%s: activeDeadlineSeconds = %v, want %v", name, got, wantDeadline)
		}
	}

	for _, name := range []string{"idle", "max"} {
		wctx, cancel := context.WithTimeout(ctx, kubetest.PodTimeout)
		pod, err := c.WaitPod(wctx, ns, openshift.PodName(ids[name]), kubetest.IsDone)
		cancel()
		if err != nil {
			t.Fatalf("%s session did not end: %v", name, err)
		}
		status, reason := openshift.SessionStatus(pod)
		t.Logf("MEASURE %s limit ended the pod %s after Ready: phase %s, status %s (%s), exit %s",
			name, time.Since(ready[name]).Round(100*time.Millisecond), pod.Status.Phase, status, reason, exitCode(pod))
		if status != backend.StatusStopped {
			t.Errorf("%s: status %s (%s), want stopped", name, status, reason)
		}
		if name == "idle" && reason != openshift.ReasonTimedOut {
			t.Errorf("idle: reason %q, want %q", reason, openshift.ReasonTimedOut)
		}
		if name == "max" && reason != openshift.ReasonTimedOut && reason != openshift.ReasonDeadline {
			t.Errorf("max: reason %q, want the entrypoint's or the cluster's deadline", reason)
		}
	}
	pod, err := c.Client.CoreV1().Pods(ns).Get(ctx, openshift.PodName(ids["forever"]), metav1.GetOptions{})
	if err != nil || pod.Status.Phase != corev1.PodRunning {
		t.Fatalf("the session without limits is not running: %v %v", pod.Status.Phase, err)
	}

	var out syncBuffer
	if err := b.Cleanup(ctx, &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("cleanup:\n%s", out.String())
	for _, name := range []string{"idle", "max"} {
		if left := labelledObjects(t, c, ns, ids[name]); len(left) != 0 {
			t.Errorf("%s: left after cleanup: %v", name, left)
		}
		if !strings.Contains(out.String(), "Removed session "+ids[name]) {
			t.Errorf("cleanup did not report %s", name)
		}
	}
	if left := labelledObjects(t, c, ns, ids["forever"]); len(left) != 3 { // pod, claim, gitconfig
		t.Errorf("cleanup touched the running session: %v", left)
	}
	if err := b.StopAll(ctx); err != nil {
		t.Fatal(err)
	}
}

func ptrTo[T any](v T) *T { return &v }

// exitCode is the agent container's exit code, for the log.
func exitCode(pod *corev1.Pod) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Terminated != nil {
			return strings.TrimSpace(strings.Join([]string{cs.State.Terminated.Reason, itoa(cs.State.Terminated.ExitCode)}, " "))
		}
	}
	return "none (killed by the deadline)"
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
