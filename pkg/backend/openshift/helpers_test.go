package openshift

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/remotecommand"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/helperbin"
	psync "github.com/paude-dev/paude/pkg/sync"
)

// testNow is the fixed time of every unit test.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testID is the session ID a backend with testRandom generates at testNow.
const testID = "1772366400-01020304"

// testRandom feeds session IDs with fixed bytes.
func testRandom() *bytes.Reader { return bytes.NewReader([]byte{1, 2, 3, 4, 5, 6, 7, 8}) }

// staticClients hands out fixed clients.
type staticClients struct{ c *Clients }

func (s staticClients) Clients() (*Clients, error) { return s.c, nil }

// fakeClients wraps a fake clientset with a REST config and a real core
// REST client, which only builds exec URLs (the executor is faked).
func fakeClients(t *testing.T, cs *fake.Clientset) *Clients {
	t.Helper()
	cfg := &rest.Config{
		Host:    "https://api.test.invalid:6443",
		APIPath: "/api",
		ContentConfig: rest.ContentConfig{
			GroupVersion:         &corev1.SchemeGroupVersion,
			NegotiatedSerializer: scheme.Codecs.WithoutConversion(),
		},
	}
	core, err := rest.RESTClientFor(cfg)
	if err != nil {
		t.Fatalf("failed to build REST client: %v", err)
	}
	return &Clients{Kube: cs, Config: cfg, CoreREST: core}
}

// writeKubeconfig writes a kubeconfig whose current context has the
// given namespace ("" = none) and returns ConfigFlags reading it.
func writeKubeconfig(t *testing.T, contextNS string) *genericclioptions.ConfigFlags {
	t.Helper()
	nsLine := ""
	if contextNS != "" {
		nsLine = "\n    namespace: " + contextNS
	}
	data := `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://api.test.invalid:6443
contexts:
- name: test
  context:
    cluster: test
    user: test` + nsLine + `
- name: other
  context:
    cluster: test
    user: test
    namespace: other-ns
current-context: test
users:
- name: test
  user:
    token: test-token
`
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &path
	return flags
}

// testConfig is a resolved config with small, distinct values.
// testGetenv is the tests' host environment: an Anthropic API key.
func testGetenv(k string) string {
	if k == "ANTHROPIC_API_KEY" {
		return "sk-test"
	}
	return ""
}

func testConfig() *config.Config {
	cfg := DefaultConfig()
	cfg.Env = map[string]string{"FOO": "bar"}
	cfg.Setup = "make deps"
	return cfg
}

// allowAll answers every SelfSubjectAccessReview with allowed, except
// the "verb resource" pairs in deny.
func allowAll(cs *fake.Clientset, deny ...string) {
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		attrs := review.Spec.ResourceAttributes
		target := attrs.Resource
		if attrs.Subresource != "" {
			target += "/" + attrs.Subresource
		}
		out := review.DeepCopy()
		out.Status.Allowed = true
		for _, d := range deny {
			if d == attrs.Verb+" "+target {
				out.Status.Allowed = false
				out.Status.Reason = "denied by test"
			}
		}
		return true, out, nil
	})
}

// testBackend is a Backend on a fake clientset with a temp HOME, fixed
// clock and random source, and namespace "team" from the kubeconfig.
type testBackend struct {
	*Backend
	cs       *fake.Clientset
	home     string
	progress *syncBuffer
	exec     *fakeExecutor
	sync     *fakeSync
}

func newTestBackend(t *testing.T, cfg *config.Config, objects ...runtime.Object) *testBackend {
	t.Helper()
	cs := fake.NewClientset(objects...)
	allowAll(cs)
	cs.PrependReactor("create", "selfsubjectreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authenticationv1.SelfSubjectReview{Status: authenticationv1.SelfSubjectReviewStatus{
			UserInfo: authenticationv1.UserInfo{Username: "alice"},
		}}, nil
	})
	home := t.TempDir()
	progress := &syncBuffer{}
	exec := &fakeExecutor{}
	fs := &fakeSync{fail: map[string]error{}}
	b, err := New(Options{
		ConfigFlags: writeKubeconfig(t, "team"),
		Config:      cfg,
		Progress:    progress,
		Clock:       clocktesting.NewFakePassiveClock(testNow),
		Home:        home,
		// A provider Claude Code can reach, or a start is refused.
		Getenv:   testGetenv,
		Random:   testRandom(),
		Clients:  staticClients{fakeClients(t, cs)},
		Executor: exec,
		// Hints must name the command the user typed: oc's, here.
		Command:   "oc paude",
		Helpers:   fakeHelper,
		NewSyncer: fs.new,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &testBackend{Backend: b, cs: cs, home: home, progress: progress, exec: exec, sync: fs}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// fakeExecutor records exec requests. A terminal stream (the attach)
// returns err; a command without one (sync's, git's) returns cmdErr.
type fakeExecutor struct {
	mu     sync.Mutex
	urls   []*url.URL
	opts   []remotecommand.StreamOptions
	err    error
	cmdErr error
	write  string
	// onStream, when set, sees each request as it is made.
	onStream func(tty bool)
}

func (f *fakeExecutor) Stream(_ context.Context, _ *rest.Config, u *url.URL, opts remotecommand.StreamOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.urls = append(f.urls, u)
	f.opts = append(f.opts, opts)
	if f.onStream != nil {
		f.onStream(opts.Tty)
	}
	if !opts.Tty {
		return f.cmdErr
	}
	if f.write != "" && opts.Stdout != nil {
		_, _ = opts.Stdout.Write([]byte(f.write))
	}
	return f.err
}

// terminals are the recorded requests with a terminal (attaches).
func (f *fakeExecutor) terminals() ([]*url.URL, []remotecommand.StreamOptions) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var urls []*url.URL
	var opts []remotecommand.StreamOptions
	for i, o := range f.opts {
		if o.Tty {
			urls, opts = append(urls, f.urls[i]), append(opts, o)
		}
	}
	return urls, opts
}

// commands are the argv of the recorded requests without a terminal.
func (f *fakeExecutor) commands() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var cmds [][]string
	for i, o := range f.opts {
		if !o.Tty {
			cmds = append(cmds, f.urls[i].Query()["command"])
		}
	}
	return cmds
}

// writeFile creates a file (and its directories) below root.
func writeFile(t *testing.T, root, rel string, data []byte) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// sessionObjectsLeft lists every object labelled with the session.
func sessionObjectsLeft(t *testing.T, cs *fake.Clientset, ns, id string) []string {
	t.Helper()
	ctx := context.Background()
	opts := metav1.ListOptions{LabelSelector: backend.SessionSelector(id)}
	var left []string
	pods, _ := cs.CoreV1().Pods(ns).List(ctx, opts)
	for _, o := range pods.Items {
		left = append(left, "pod/"+o.Name)
	}
	secrets, _ := cs.CoreV1().Secrets(ns).List(ctx, opts)
	for _, o := range secrets.Items {
		left = append(left, "secret/"+o.Name)
	}
	// ConfigMaps are looked up in the tracker, not through the client, so
	// that assertNoConfigMaps still sees only paude's own calls.
	cms, _ := cs.Tracker().List(corev1.SchemeGroupVersion.WithResource("configmaps"), corev1.SchemeGroupVersion.WithKind("ConfigMap"), ns)
	if list, ok := cms.(*corev1.ConfigMapList); ok {
		for _, o := range list.Items {
			if o.Labels[backend.LabelSessionID] == id {
				left = append(left, "configmap/"+o.Name)
			}
		}
	}
	pvcs, _ := cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, opts)
	for _, o := range pvcs.Items {
		left = append(left, "persistentvolumeclaim/"+o.Name)
	}
	return left
}

// assertNoConfigMaps fails the test if paude called the API on
// ConfigMaps, asked whether it may, or one exists: paude keeps nothing
// in them (a gitconfig can hold tokens) and needs no permission on them.
func assertNoConfigMaps(t *testing.T, cs *fake.Clientset) {
	t.Helper()
	for _, a := range cs.Actions() {
		if a.GetResource().Resource == "configmaps" {
			t.Errorf("paude called %s on configmaps: it must not use ConfigMaps", a.GetVerb())
		}
		if create, ok := a.(k8stesting.CreateAction); ok {
			review, ok := create.GetObject().(*authorizationv1.SelfSubjectAccessReview)
			if ok && review.Spec.ResourceAttributes != nil && review.Spec.ResourceAttributes.Resource == "configmaps" {
				t.Errorf("paude checks permission to %s configmaps: it needs none on them", review.Spec.ResourceAttributes.Verb)
			}
		}
	}
	// The tracker answers without recording an action.
	all, err := cs.Tracker().List(corev1.SchemeGroupVersion.WithResource("configmaps"), corev1.SchemeGroupVersion.WithKind("ConfigMap"), "")
	if err != nil {
		t.Fatal(err)
	}
	if list := all.(*corev1.ConfigMapList); len(list.Items) != 0 {
		t.Errorf("%d ConfigMaps exist, first %s/%s: paude must not create any", len(list.Items), list.Items[0].Namespace, list.Items[0].Name)
	}
}

// contains reports whether s contains every part.
func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// fakeHelper stands in for the Linux paude the agent image carries: the
// test binary is not one (it may be linked dynamically).
func fakeHelper(arch string) (*helperbin.Binary, error) {
	return &helperbin.Binary{Arch: arch, Content: []byte("\x7fELF fake paude for " + arch), Source: "the test"}, nil
}

// fakeSync stands in for the sync engine: it records, in order, the
// engines made ("new <method>") and what was asked of them ("once",
// "start", "stop"), and fails a step named in fail.
type fakeSync struct {
	mu    sync.Mutex
	calls []string
	opts  []psync.Options
	fail  map[string]error
}

func (f *fakeSync) new(method string, o psync.Options) (psync.Syncer, error) {
	_ = f.record("new " + method)
	f.mu.Lock()
	f.opts = append(f.opts, o)
	f.mu.Unlock()
	return &fakeSyncer{f: f}, nil
}

func (f *fakeSync) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.fail[call]
}

func (f *fakeSync) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

type fakeSyncer struct{ f *fakeSync }

func (s *fakeSyncer) Engine() string              { return psync.EngineNative }
func (s *fakeSyncer) Available() error            { return nil }
func (s *fakeSyncer) Start(context.Context) error { return s.f.record("start") }
func (s *fakeSyncer) Once(context.Context) error  { return s.f.record("once") }
func (s *fakeSyncer) Flush(context.Context) error { return s.f.record("flush") }
func (s *fakeSyncer) Stop(context.Context) error  { return s.f.record("stop") }
func (s *fakeSyncer) Status() psync.Status        { return psync.Status{Engine: psync.EngineNative} }
