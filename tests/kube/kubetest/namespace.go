package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// LabelManaged marks every namespace the harness creates.
const LabelManaged = "paude.dev/kubetest"

// nonName matches the runs of characters a namespace name cannot hold.
var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// NamespaceName derives a valid, unique namespace name from a test name:
// "kt-", the lower-cased test name cut to 40 characters, and a random suffix.
func NamespaceName(testName string) string {
	base := strings.Trim(nonName.ReplaceAllString(strings.ToLower(testName), "-"), "-")
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "-")
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	if base == "" {
		return "kt-" + hex.EncodeToString(suffix)
	}
	return "kt-" + base + "-" + hex.EncodeToString(suffix)
}

// Namespace creates a namespace for this test only, with the given extra
// labels, and waits until pods can be created in it (its default
// ServiceAccount exists). When the test ends the namespace is deleted; if
// the test failed, its events and pod logs are first written to the test log.
func (c *Cluster) Namespace(t testing.TB, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   NamespaceName(t.Name()),
		Labels: map[string]string{LabelManaged: "true"},
	}}
	maps.Copy(ns.Labels, labels)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("failed to create namespace %s: %v", ns.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			c.Dump(ctx, t, ns.Name)
		}
		// Deletion finishes in the background; down.sh removes whatever is left.
		err := c.Client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("failed to delete namespace %s: %v", ns.Name, err)
		}
	})
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("failed to wait for the default ServiceAccount in namespace %s: %v", ns.Name, err)
	}
	return ns.Name
}

// Dump writes the events of namespace ns and the state and logs of its pods
// into the test log, for a test that failed.
func (c *Cluster) Dump(ctx context.Context, t testing.TB, ns string) {
	t.Helper()
	t.Logf("----- dump of namespace %s -----", ns)
	events, err := c.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("failed to list events: %v", err)
	} else {
		items := events.Items
		sort.SliceStable(items, func(i, j int) bool { return eventTime(items[i]).Before(eventTime(items[j])) })
		for _, e := range items {
			t.Logf("event %s %s %s/%s %s: %s", eventTime(e).Format(time.RFC3339), e.Type,
				e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, strings.TrimSpace(e.Message))
		}
	}
	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("failed to list pods: %v", err)
		return
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		t.Logf("pod %s: %s", p.Name, PodSummary(p))
		for _, ctr := range p.Spec.Containers {
			tail := int64(50)
			logs, err := c.Client.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{
				Container: ctr.Name, TailLines: &tail,
			}).DoRaw(ctx)
			if err != nil {
				t.Logf("pod %s container %s: failed to get logs: %v", p.Name, ctr.Name, err)
				continue
			}
			t.Logf("pod %s container %s logs:\n%s", p.Name, ctr.Name, logs)
		}
	}
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

// PodSummary describes a pod's phase, IP, conditions and container states
// in one line.
func PodSummary(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase=%s ip=%s node=%s", p.Status.Phase, p.Status.PodIP, p.Spec.NodeName)
	for _, cond := range p.Status.Conditions {
		fmt.Fprintf(&b, " %s=%s", cond.Type, cond.Status)
	}
	for _, s := range p.Status.ContainerStatuses {
		switch {
		case s.State.Waiting != nil:
			fmt.Fprintf(&b, " [%s waiting %s: %s]", s.Name, s.State.Waiting.Reason, s.State.Waiting.Message)
		case s.State.Running != nil:
			fmt.Fprintf(&b, " [%s running restarts=%d]", s.Name, s.RestartCount)
		case s.State.Terminated != nil:
			fmt.Fprintf(&b, " [%s terminated exit=%d %s]", s.Name, s.State.Terminated.ExitCode, s.State.Terminated.Reason)
		}
	}
	return b.String()
}
