package openshift

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A pod's termination message can be the agent's last log lines: an
// escape sequence in it reaches no terminal through an error. The
// control: the message's text is kept.
func TestPodMessagesArePrintable(t *testing.T) {
	osc52 := "\x1b]52;c;cGF3bmVk\x07"
	e := &PodFailedError{Pod: "paude-1", Reason: "Error", Message: "boom" + osc52 + "\nnext line"}
	if got := e.Error(); strings.ContainsAny(got, "\x1b\x07\n") || !strings.Contains(got, "boom") || !strings.Contains(got, "next line") {
		t.Errorf("PodFailedError = %q", got)
	}
	if got := firstLine("\n  first" + osc52 + " line\nsecond"); got != "first line" {
		t.Errorf("firstLine = %q, want %q", got, "first line")
	}
}

// A namespace-wide credential Secret edited by hand says to recreate it
// with setup, named as the user types it.
func TestBrokenPersistentCredentialNamesSetup(t *testing.T) {
	kind := CredentialKinds[0]
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: PersistentCredentialName(kind), Namespace: "team"}}
	tb := newTestBackend(t, testConfig(), secret)
	tb.opts.Command = "oc paude"
	c, err := tb.client()
	if err != nil {
		t.Fatal(err)
	}
	_, err = tb.persistentCredentials(context.Background(), c, "team", []CredentialKind{kind})
	if err == nil || !strings.Contains(err.Error(), "has no valid paude.io/paths annotation: recreate it with `oc paude setup`") {
		t.Fatalf("err = %v", err)
	}
}
