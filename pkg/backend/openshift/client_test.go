package openshift

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	k8stesting "k8s.io/client-go/testing"

	"github.com/paude-dev/paude/pkg/backend"
)

var podsGR = schema.GroupResource{Resource: "pods"}

func TestResolveSettingsNamespacePrecedence(t *testing.T) {
	tests := []struct {
		name       string
		flagNS     string
		flagCtx    string
		configNS   string
		contextNS  string
		want       string
		wantSource string
		wantErr    string
	}{
		{name: "default", want: "paude", wantSource: "default"},
		{name: "context", contextNS: "ctx-ns", want: "ctx-ns", wantSource: "kubeconfig context"},
		{name: "paude.json beats context", contextNS: "ctx-ns", configNS: "cfg-ns", want: "cfg-ns", wantSource: "paude.json"},
		{name: "flag beats paude.json", contextNS: "ctx-ns", configNS: "cfg-ns", flagNS: "flag-ns", want: "flag-ns", wantSource: "flag"},
		{name: "context flag", flagCtx: "other", want: "other-ns", wantSource: "kubeconfig context"},
		{name: "invalid", configNS: "Bad_NS", wantErr: `invalid namespace "Bad_NS" (from paude.json)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := writeKubeconfig(t, tt.contextNS)
			if tt.flagNS != "" {
				flags.Namespace = &tt.flagNS
			}
			if tt.flagCtx != "" {
				flags.Context = &tt.flagCtx
			}
			cfg := DefaultConfig()
			cfg.Backend.Namespace = tt.configNS
			b, err := New(Options{ConfigFlags: flags, Config: cfg, Home: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			s, err := b.ResolveSettings()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Namespace != tt.want || s.NamespaceSource != tt.wantSource {
				t.Errorf("namespace = %s (%s), want %s (%s)", s.Namespace, s.NamespaceSource, tt.want, tt.wantSource)
			}
		})
	}
}

func TestNoKubeconfig(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	b, err := New(Options{ConfigFlags: genericclioptions.NewConfigFlags(false), Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.ListSessions(context.Background())
	if !backend.IsUnavailable(err) || !containsAll(err.Error(), "no kubeconfig found", "oc login") {
		t.Errorf("err = %v, want unavailable with a login hint", err)
	}
}

// failing makes every verb on resource fail with err.
func failing(tb *testBackend, verb, resource string, err error) {
	tb.cs.PrependReactor(verb, resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, err
	})
}

func TestAPIErrorClassification(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://api.test.invalid:6443/api", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name        string
		err         error
		unavailable bool
		want        []string
	}{
		{"401", apierrors.NewUnauthorized("token expired"), true, []string{"credentials for https://api.test.invalid:6443 are missing or expired", "log in with `oc login` or refresh your kubeconfig"}},
		{"403", apierrors.NewForbidden(podsGR, "", errors.New("no")), false, []string{`not allowed to list pods in namespace "team"`, "edit role"}},
		{"server timeout", apierrors.NewServerTimeout(podsGR, "list", 2), false, []string{"did not answer in time", "check your network or VPN"}},
		{"gateway timeout", apierrors.NewTimeoutError("slow", 1), false, []string{"did not answer in time"}},
		{"deadline", context.DeadlineExceeded, false, []string{"did not answer in time"}},
		{"refused", refused, true, []string{"cannot reach https://api.test.invalid:6443", "check the cluster address"}},
		{"other", apierrors.NewInternalError(errors.New("etcd down")), false, []string{`failed to list pods in namespace "team"`, "etcd down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, nil)
			failing(tb, "list", "pods", tt.err)
			_, err := tb.ListSessions(context.Background())
			if err == nil {
				t.Fatal("want an error")
			}
			if backend.IsUnavailable(err) != tt.unavailable {
				t.Errorf("unavailable = %v, want %v (%v)", !tt.unavailable, tt.unavailable, err)
			}
			if !containsAll(err.Error(), tt.want...) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCheckConnection(t *testing.T) {
	t.Run("user name", func(t *testing.T) {
		tb := newTestBackend(t, nil)
		tb.cs.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, &authenticationv1.SelfSubjectReview{Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: authenticationv1.UserInfo{Username: "alice"}}}, nil
		})
		user, err := tb.CheckConnection(context.Background())
		if err != nil || user != "alice" {
			t.Errorf("CheckConnection = %q, %v", user, err)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		tb := newTestBackend(t, nil)
		failing(tb, "create", "selfsubjectreviews", apierrors.NewUnauthorized("Unauthorized"))
		_, err := tb.CheckConnection(context.Background())
		if !backend.IsUnavailable(err) || !strings.Contains(err.Error(), "oc login") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestCheckAccess(t *testing.T) {
	tb := newTestBackend(t, nil)
	allowAll(tb.cs, "create pods/exec", "delete secrets")
	err := tb.CheckAccess(context.Background(), "team", "alice", SessionAccess)
	var forbidden *ForbiddenError
	if !errors.As(err, &forbidden) {
		t.Fatalf("err = %v, want ForbiddenError", err)
	}
	if forbidden.Verb != "create" || forbidden.Resource != "pods/exec" {
		t.Errorf("first denied = %s %s, want create pods/exec (list order)", forbidden.Verb, forbidden.Resource)
	}
	if !containsAll(err.Error(), `user "alice" is not allowed to create pods/exec in namespace "team"`) {
		t.Errorf("message = %q", err)
	}
	// Not even allowed to ask: the error still names what was needed.
	tb2 := newTestBackend(t, nil)
	tb2.cs.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}, "", errors.New("no"))
	})
	err = tb2.CheckAccess(context.Background(), "team", "", StartAccess)
	if !errors.As(err, &forbidden) || !strings.Contains(err.Error(), "you are not allowed to create persistentvolumeclaims") {
		t.Errorf("err = %v", err)
	}
}

func TestNamespaceMissing(t *testing.T) {
	tb := newTestBackend(t, nil)
	_, err := tb.ListSessions(context.Background())
	if err == nil || !containsAll(err.Error(), `namespace "team" (from kubeconfig context) does not exist`, "run `oc paude setup`", "pass -n") {
		t.Errorf("err = %v", err)
	}
	// Exists: an empty list is fine.
	tb = newTestBackend(t, nil, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}})
	sessions, err := tb.ListSessions(context.Background())
	if err != nil || len(sessions) != 0 {
		t.Errorf("ListSessions = %v, %v", sessions, err)
	}
}

func TestInvalidIDNeverReachesTheAPI(t *testing.T) {
	tb := newTestBackend(t, nil)
	ctx := context.Background()
	for _, id := range []string{"", "../etc", "UPPER", "a_b", "x;rm -rf", strings.Repeat("a", 64)} {
		if _, err := tb.AttachSession(ctx, id, genericiooptions.IOStreams{}); err == nil {
			t.Errorf("attach %q accepted", id)
		}
		if err := tb.StopSession(ctx, id); err == nil {
			t.Errorf("stop %q accepted", id)
		}
	}
	if n := len(tb.cs.Actions()); n != 0 {
		t.Errorf("%d API calls made for invalid IDs: %v", n, tb.cs.Actions())
	}
}
