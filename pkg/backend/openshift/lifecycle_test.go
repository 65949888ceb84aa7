package openshift

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/paude-dev/paude/pkg/backend"
)

const otherID = "1772300000-aaaaaaaa"

// sessionCreds are a session's credential objects.
func sessionCreds(id string) []runtime.Object {
	labels := backend.SessionLabels(id, backend.RoleCredential)
	return []runtime.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: SessionCredentialName(id, CredentialGcloud), Namespace: "team", Labels: labels}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: SessionCredentialName(id, CredentialGitconfig), Namespace: "team", Labels: labels}},
		sessionEnvSecret(id),
	}
}

// sessionEnvSecret is a session's env Secret as a start creates it.
func sessionEnvSecret(id string) *corev1.Secret {
	secret, err := EnvSecretFor(PodParams{ID: id, Namespace: "team", HostWorkspace: "/home/me/proj", Config: testConfig()})
	if err != nil || secret == nil {
		panic(fmt.Sprintf("no env secret: %v", err))
	}
	secret.TypeMeta = metav1.TypeMeta{}
	return secret
}

// fullSession is every object of a session with a pod in the given state.
func fullSession(id string, mutate func(*corev1.Pod)) []runtime.Object {
	return append([]runtime.Object{sessionPod(id, mutate), sessionClaim(id)}, sessionCreds(id)...)
}

func objects(groups ...[]runtime.Object) []runtime.Object {
	var all []runtime.Object
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

func TestStopSession(t *testing.T) {
	tests := []struct {
		name     string
		keep     bool
		wantLeft []string
	}{
		{"keep workspace", true, []string{"persistentvolumeclaim/paude-" + testID + "-workspace"}},
		{"delete workspace", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			persistent := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "paude-gcloud", Namespace: "team", Labels: map[string]string{backend.LabelApp: backend.AppName}}}
			tb := newTestBackend(t, keepConfig(tt.keep), objects([]runtime.Object{teamNS, persistent}, fullSession(testID, makeReady), fullSession(otherID, makeReady))...)
			if err := tb.StopSession(context.Background(), testID); err != nil {
				t.Fatal(err)
			}
			if left := sessionObjectsLeft(t, tb.cs, "team", testID); !reflect.DeepEqual(left, tt.wantLeft) {
				t.Errorf("left = %v, want %v", left, tt.wantLeft)
			}
			if left := sessionObjectsLeft(t, tb.cs, "team", otherID); len(left) != 5 {
				t.Errorf("another session was touched: %v", left)
			}
			if _, err := tb.cs.CoreV1().Secrets("team").Get(context.Background(), "paude-gcloud", metav1.GetOptions{}); err != nil {
				t.Errorf("persistent credentials removed: %v", err)
			}
			// The pod goes first and with grace period 0.
			var deletes []string
			for _, a := range tb.cs.Actions() {
				if d, ok := a.(k8stesting.DeleteActionImpl); ok {
					deletes = append(deletes, d.GetResource().Resource)
					if d.GetResource().Resource == "pods" && (d.DeleteOptions.GracePeriodSeconds == nil || *d.DeleteOptions.GracePeriodSeconds != 0) {
						t.Errorf("pod deleted with grace %v, want 0", d.DeleteOptions.GracePeriodSeconds)
					}
				}
			}
			if len(deletes) == 0 || deletes[0] != "pods" {
				t.Errorf("delete order = %v, want the pod first", deletes)
			}
			assertNoConfigMaps(t, tb.cs)
			out := tb.progress.String()
			if tt.keep != strings.Contains(out, "Kept workspace volume paude-"+testID+"-workspace") {
				t.Errorf("progress:\n%s", out)
			}
			// Stopping again is not an error.
			if err := tb.StopSession(context.Background(), testID); err != nil {
				t.Errorf("second stop: %v", err)
			}
		})
	}
}

func TestStopAll(t *testing.T) {
	tb := newTestBackend(t, keepConfig(false), objects([]runtime.Object{teamNS}, fullSession(testID, makeReady), fullSession(otherID, nil))...)
	if err := tb.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{testID, otherID} {
		if left := sessionObjectsLeft(t, tb.cs, "team", id); len(left) != 0 {
			t.Errorf("session %s left %v", id, left)
		}
	}
}

func TestStopErrors(t *testing.T) {
	tb := newTestBackend(t, keepConfig(false), objects([]runtime.Object{teamNS}, fullSession(testID, makeReady))...)
	failing(tb, "delete", "pods", apierrors.NewForbidden(podsGR, "x", errors.New("no")))
	err := tb.StopSession(context.Background(), testID)
	var forbidden *ForbiddenError
	if !errors.As(err, &forbidden) || forbidden.Verb != "delete" {
		t.Errorf("err = %v, want a forbidden delete", err)
	}
	// Nothing else was deleted while the pod could not be.
	if left := sessionObjectsLeft(t, tb.cs, "team", testID); len(left) != 5 {
		t.Errorf("left = %v", left)
	}
}

func TestListSessions(t *testing.T) {
	older := "1772300000-bbbbbbbb"
	tb := newTestBackend(t, testConfig(), objects(
		[]runtime.Object{teamNS},
		fullSession(testID, makeReady),
		fullSession(otherID, statusOf(podWith(corev1.PodPending, waiting("ImagePullBackOff", "not found")))),
		[]runtime.Object{sessionClaim(older)},
	)...)
	// Creation times order the list; the pod's annotation says when.
	for id, at := range map[string]time.Time{otherID: testNow.Add(-time.Hour), older: testNow.Add(-2 * time.Hour)} {
		setCreated(t, tb, id, at)
	}
	sessions, err := tb.ListSessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sessions {
		got = append(got, s.ID+" "+string(s.Status)+" "+s.Reason+" "+s.Workspace)
	}
	want := []string{
		testID + " running  /home/me/proj",
		otherID + " error ImagePullBackOff: not found /home/me/proj",
		older + " stopped " + ReasonKept + " /home/me/proj",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sessions =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// One LIST per kind, by label, no per-session GETs.
	var verbs []string
	for _, a := range tb.cs.Actions() {
		verbs = append(verbs, a.GetVerb()+" "+a.GetResource().Resource)
		if l, ok := a.(k8stesting.ListActionImpl); ok && l.ListOptions.LabelSelector != backend.AllSessionsSelector {
			t.Errorf("list selector = %q", l.ListOptions.LabelSelector)
		}
	}
	if !reflect.DeepEqual(verbs, []string{"list pods", "list persistentvolumeclaims"}) {
		t.Errorf("API calls = %v", verbs)
	}
}

func setCreated(t *testing.T, tb *testBackend, id string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	stamp := at.UTC().Format(time.RFC3339)
	if pod, err := tb.cs.CoreV1().Pods("team").Get(ctx, PodName(id), metav1.GetOptions{}); err == nil {
		pod.Annotations[AnnotationCreatedAt] = stamp
		if _, err := tb.cs.CoreV1().Pods("team").Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	claim, err := tb.cs.CoreV1().PersistentVolumeClaims("team").Get(ctx, ClaimName(id), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	claim.Annotations[AnnotationCreatedAt] = stamp
	if _, err := tb.cs.CoreV1().PersistentVolumeClaims("team").Update(ctx, claim, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	tb.cs.ClearActions()
}

func TestCleanup(t *testing.T) {
	stopped := "1772300000-cccccccc"
	persistent := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "paude-gcloud", Namespace: "team", Labels: map[string]string{backend.LabelApp: backend.AppName}}}
	tb := newTestBackend(t, testConfig(), objects(
		[]runtime.Object{teamNS, persistent},
		fullSession(testID, makeReady),
		fullSession(otherID, statusOf(podWith(corev1.PodFailed, func(p *corev1.Pod) { p.Status.Reason = "DeadlineExceeded" }))),
		append([]runtime.Object{sessionClaim(stopped)}, sessionCreds(stopped)...),
	)...)
	var out bytes.Buffer
	if err := tb.Cleanup(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	if left := sessionObjectsLeft(t, tb.cs, "team", testID); len(left) != 5 {
		t.Errorf("running session touched: %v", left)
	}
	for _, id := range []string{otherID, stopped} {
		if left := sessionObjectsLeft(t, tb.cs, "team", id); len(left) != 0 {
			t.Errorf("session %s left %v", id, left)
		}
	}
	if _, err := tb.cs.CoreV1().Secrets("team").Get(context.Background(), "paude-gcloud", metav1.GetOptions{}); err != nil {
		t.Errorf("persistent credentials removed: %v", err)
	}
	assertNoConfigMaps(t, tb.cs)
	want := "Removed session " + otherID + " (max lifetime reached): 5 objects\n" +
		"Removed session " + stopped + " (stopped): 4 objects\n" +
		"Left 1 running or pending sessions alone: `oc paude stop` ends them\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	// Stopping keeps the workspace; cleanup then removes it, and then
	// there is nothing left.
	if err := tb.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := tb.Cleanup(context.Background(), &out); err != nil || out.String() != "Removed session "+testID+" (stopped): 1 objects\n" {
		t.Errorf("cleanup after stop: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := tb.Cleanup(context.Background(), &out); err != nil || out.String() != "Nothing to clean up in namespace team\n" {
		t.Errorf("last cleanup: %v\n%s", err, out.String())
	}
}

func TestListSessionsSkipsClaimsBeingDeleted(t *testing.T) {
	claim := sessionClaim(testID)
	now := metav1.Now()
	claim.DeletionTimestamp = &now
	claim.Finalizers = []string{"kubernetes.io/pvc-protection"}
	tb := newTestBackend(t, testConfig(), teamNS, claim, sessionClaim(otherID))
	sessions, err := tb.ListSessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0].ID != otherID {
		t.Errorf("sessions = %+v, want only %s", sessions, otherID)
	}
}
