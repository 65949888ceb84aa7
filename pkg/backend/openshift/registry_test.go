package openshift

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/pkg/podmancli"
)

const testToken = "sha256~tok3n-S3CRET"

// fakeRegistry is a real registry (go-containerregistry's) over TLS that
// wants the token as the password, as OpenShift's does, and refuses
// anonymous requests. It records the requests it got.
type fakeRegistry struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	t.Helper()
	r := &fakeRegistry{}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, pass, ok := req.BasicAuth()
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.Path+" auth="+map[bool]string{true: "yes", false: "no"}[ok])
		r.mu.Unlock()
		if !ok || pass != testToken {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *fakeRegistry) host() string { return strings.TrimPrefix(r.srv.URL, "https://") }

// caPEM is the registry's certificate, PEM, as a kubeconfig carries it.
func (r *fakeRegistry) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw})
}

// put stores a random image at ref, with the token.
func (r *fakeRegistry) put(t *testing.T, ref string) {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	err = remote.Write(parsed, img, remote.WithAuth(&authn.Basic{Username: "u", Password: testToken}),
		remote.WithTransport(r.srv.Client().Transport))
	if err != nil {
		t.Fatal(err)
	}
}

// recordingPodman answers every podman call with success, recording argv
// and stdin; `image exists` says no.
type recordingPodman struct {
	mu    sync.Mutex
	calls []string
	stdin map[string]string
	fail  map[string]error
}

func (p *recordingPodman) Run(_ context.Context, args []string) ([]byte, error) {
	return nil, p.answer(args, nil)
}

func (p *recordingPodman) Stream(_ context.Context, args []string, s genericiooptions.IOStreams) error {
	var in []byte
	if s.In != nil {
		in, _ = io.ReadAll(s.In)
	}
	return p.answer(args, in)
}

func (p *recordingPodman) answer(args []string, in []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := strings.Join(args, " ")
	p.calls = append(p.calls, line)
	if in != nil {
		if p.stdin == nil {
			p.stdin = map[string]string{}
		}
		p.stdin[args[0]] = string(in)
	}
	for prefix, err := range p.fail {
		if strings.HasPrefix(line, prefix) {
			return err
		}
	}
	if strings.HasPrefix(line, "image exists") {
		return &podmancli.ExitError{Args: args, Code: 1}
	}
	return nil
}

// registryBackend is a test backend pushing to reg, with a kubeconfig
// whose token is testToken and whose CA is the registry's.
func registryBackend(t *testing.T, reg *fakeRegistry, objects ...runtime.Object) (*testBackend, *recordingPodman) {
	t.Helper()
	tb := newTestBackend(t, testConfig(), objects...)
	c, err := tb.client()
	if err != nil {
		t.Fatal(err)
	}
	c.Config.BearerToken = testToken
	c.Config.CAData = reg.caPEM()
	pm := &recordingPodman{}
	tb.podman = pm
	tb.opts.CacheDir = t.TempDir()
	tb.opts.Registry = reg.host()
	return tb, pm
}

func TestBearerToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(dir, "plugin")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"from-exec\"}}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  *rest.Config
		want string
	}{
		{"token", &rest.Config{Host: "https://api", BearerToken: "static"}, "static"},
		{"token file", &rest.Config{Host: "https://api", BearerTokenFile: file}, "from-file"},
		{"exec plugin", &rest.Config{Host: "https://api", ExecProvider: &clientcmdapi.ExecConfig{
			APIVersion: "client.authentication.k8s.io/v1", Command: plugin, InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}, "from-exec"},
		{"client certificate: no token", &rest.Config{Host: "https://api"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bearerToken(tt.cfg)
			if err != nil || got != tt.want {
				t.Errorf("token %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestFindRegistry(t *testing.T) {
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "route.openshift.io/v1", "kind": "Route",
		"metadata": map[string]any{"name": RegistryRoute, "namespace": RegistryNamespace},
		"spec":     map[string]any{"host": "default-route-openshift-image-registry.apps.example.com"},
	}}
	withRoute := func(tb *testBackend, objs ...runtime.Object) {
		c, _ := tb.client()
		c.Dynamic = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
			map[schema.GroupVersionResource]string{routeResource: "RouteList"}, objs...)
	}
	ctx := context.Background()
	t.Run("the route of OpenShift's registry, pulled through its service", func(t *testing.T) {
		tb := newTestBackend(t, testConfig())
		withRoute(tb, route)
		s, _ := tb.ResolveSettings()
		c, _ := tb.client()
		got, err := tb.findRegistry(ctx, c, s)
		if err != nil {
			t.Fatal(err)
		}
		if got.Push != "default-route-openshift-image-registry.apps.example.com" || got.Pull != InternalRegistry ||
			!strings.Contains(got.Source, "route openshift-image-registry/default-route") {
			t.Errorf("registry %+v", got)
		}
		if ref := got.pullRef("team", "paude-workspace:abc"); ref != InternalRegistry+"/team/paude-workspace:abc" {
			t.Errorf("pull ref %s", ref)
		}
	})
	t.Run("backend.registry beats the route, --registry beats both", func(t *testing.T) {
		cfg := testConfig()
		cfg.Backend.Registry = "quay.io/myorg"
		tb := newTestBackend(t, cfg)
		withRoute(tb, route)
		s, _ := tb.ResolveSettings()
		c, _ := tb.client()
		got, err := tb.findRegistry(ctx, c, s)
		if err != nil || got.Push != "quay.io/myorg" || got.Pull != "quay.io/myorg" || got.host() != "quay.io" {
			t.Errorf("registry %+v, %v", got, err)
		}
		tb.reg, tb.opts.Registry = nil, "registry.local:5000"
		got, err = tb.findRegistry(ctx, c, s)
		if err != nil || got.Push != "registry.local:5000" || got.Source != "--registry" {
			t.Errorf("registry %+v, %v", got, err)
		}
	})
	t.Run("a user who may not read the route: an image stream's public name", func(t *testing.T) {
		stream := func(ns, name, public string) *unstructured.Unstructured {
			return &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
				"metadata": map[string]any{"name": name, "namespace": ns},
				"status":   map[string]any{"publicDockerImageRepository": public},
			}}
		}
		for _, tt := range []struct {
			name    string
			streams []runtime.Object
			want    string // "" = an error naming --registry
		}{
			{"from the openshift namespace", []runtime.Object{stream("openshift", "cli", "registry.apps.example.com/openshift/cli")}, "image stream openshift/cli"},
			{"the session namespace first", []runtime.Object{
				stream("openshift", "cli", "registry.apps.example.com/openshift/cli"),
				stream("team", "app", "registry.apps.example.com/team/app")}, "image stream team/app"},
			{"streams without a public name", []runtime.Object{stream("openshift", "cli", "")}, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tb := newTestBackend(t, testConfig())
				c, _ := tb.client()
				dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
					map[schema.GroupVersionResource]string{routeResource: "RouteList", imageStreamResource: "ImageStreamList"}, tt.streams...)
				dyn.PrependReactor("get", "routes", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(routeResource.GroupResource(), RegistryRoute, errors.New("no"))
				})
				c.Dynamic = dyn
				s, _ := tb.ResolveSettings()
				got, err := tb.findRegistry(ctx, c, s)
				if tt.want == "" {
					if err == nil || !containsAll(err.Error(), "you may not read the route", "no image stream", "pass --registry") {
						t.Errorf("err = %v", err)
					}
					return
				}
				if err != nil || got.Push != "registry.apps.example.com" || got.Pull != InternalRegistry || !strings.Contains(got.Source, tt.want) {
					t.Errorf("registry %+v, %v; want the source to name %q", got, err, tt.want)
				}
			})
		}
	})
	t.Run("no route: the message names --registry", func(t *testing.T) {
		tb := newTestBackend(t, testConfig())
		withRoute(tb)
		s, _ := tb.ResolveSettings()
		c, _ := tb.client()
		_, err := tb.findRegistry(ctx, c, s)
		if err == nil || !containsAll(err.Error(), "no registry for the session's images", "pass --registry", "with --image too") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestImagesBuildPushAndSkip: a registry without the image gets it built
// and pushed, logging in with the token on stdin, never in argv; a
// registry that has it gets nothing; a registry refusing anonymous pulls
// makes the pod use a pull secret.
func TestImagesBuildPushAndSkip(t *testing.T) {
	ctx := context.Background()
	reg := newFakeRegistry(t)
	tb, pm := registryBackend(t, reg)
	s, _ := tb.ResolveSettings()
	c, _ := tb.client()
	recipe, err := image.WorkspaceRecipe(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	p, err := tb.planImages(ctx, c, s, "alice", recipesOf(recipe), false)
	if err != nil {
		t.Fatal(err)
	}
	want := reg.host() + "/team/" + recipe.Tag
	if len(p.Images) != 1 || p.Images[0].InRegistry || p.Images[0].Push != want || p.Images[0].Pull != want || !p.NeedsPullSecret {
		t.Fatalf("plan %+v", p)
	}
	var progress bytes.Buffer
	if err := tb.ensureImages(ctx, p, false, &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	authFile := filepath.Join(registryDir(tb.opts.CacheDir, reg.host()), "auth.json")
	calls := strings.Join(pm.calls, "\n")
	for _, wantCall := range []string{
		"image exists " + recipe.Tag,
		"build --force-rm --label app=paude -t " + recipe.Tag,
		"login --authfile " + authFile + " --cert-dir " + filepath.Dir(authFile) + "/certs --username alice --password-stdin " + reg.host(),
		"push --authfile " + authFile + " --cert-dir " + filepath.Dir(authFile) + "/certs " + recipe.Tag + " docker://" + want,
	} {
		if !strings.Contains(calls, wantCall) {
			t.Errorf("no call %q in:\n%s", wantCall, calls)
		}
	}
	if strings.Contains(calls, testToken) || strings.Contains(progress.String(), testToken) {
		t.Errorf("the token is in an argv or the progress:\n%s\n%s", calls, progress.String())
	}
	if pm.stdin["login"] != testToken+"\n" {
		t.Errorf("login read %q from stdin", pm.stdin["login"])
	}
	if fi, err := os.Stat(filepath.Dir(authFile)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("auth directory: %v %v", fi, err)
	}

	// The registry has it now: nothing to build or push, no podman call.
	reg.put(t, want)
	tb.reg = nil
	pm.calls = nil
	p, err = tb.planImages(ctx, c, s, "alice", recipesOf(recipe), false)
	if err != nil || !p.Images[0].InRegistry {
		t.Fatalf("plan %+v, %v", p, err)
	}
	if err := tb.ensureImages(ctx, p, false, &progress); err != nil || len(pm.calls) != 0 {
		t.Errorf("calls %q, %v", pm.calls, err)
	}
	if !strings.Contains(progress.String(), "is in the registry already") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

func TestRegistryErrors(t *testing.T) {
	ctx := context.Background()
	recipe, err := image.WorkspaceRecipe(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	plan := func(tb *testBackend) error {
		s, _ := tb.ResolveSettings()
		c, _ := tb.client()
		_, err := tb.planImages(ctx, c, s, "alice", recipesOf(recipe), false)
		return err
	}
	// push plans the workspace image and pushes it, as a start does.
	push := func(t *testing.T, tb *testBackend) error {
		s, _ := tb.ResolveSettings()
		c, _ := tb.client()
		p, err := tb.planImages(ctx, c, s, "alice", recipesOf(recipe), false)
		if err != nil {
			t.Fatal(err)
		}
		return tb.ensureImages(ctx, p, false, io.Discard)
	}
	t.Run("a refused token says to log in again", func(t *testing.T) {
		tb, _ := registryBackend(t, newFakeRegistry(t))
		c, _ := tb.client()
		c.Config.BearerToken = "expired"
		err := plan(tb)
		var u *backend.UnavailableError
		if !errors.As(err, &u) || !containsAll(err.Error(), "refused your credentials", "oc login") || strings.Contains(err.Error(), "expired\"") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("an untrusted certificate names --registry-insecure", func(t *testing.T) {
		tb, _ := registryBackend(t, newFakeRegistry(t))
		c, _ := tb.client()
		c.Config.CAData = nil
		if err := plan(tb); err == nil || !containsAll(err.Error(), "certificate is not trusted", "--registry-insecure") {
			t.Errorf("err = %v", err)
		}
		tb.reg, tb.opts.RegistryInsecure = nil, true
		if err := plan(tb); err != nil {
			t.Errorf("with --registry-insecure: %v", err)
		}
	})
	t.Run("an unreachable registry says so", func(t *testing.T) {
		reg := newFakeRegistry(t)
		tb, _ := registryBackend(t, reg)
		reg.srv.Close()
		if err := plan(tb); err == nil || !containsAll(err.Error(), "cannot reach it", reg.host()) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a refused push names the registry and the image", func(t *testing.T) {
		tb, pm := registryBackend(t, newFakeRegistry(t))
		pm.fail = map[string]error{"push": &podmancli.ExitError{Args: []string{"push"}, Code: 125}}
		err := push(t, tb)
		if err == nil || !containsAll(err.Error(), "failed to push "+recipe.Tag+" to registry", "--registry") {
			t.Errorf("err = %v", err)
		}
	})
	// On a Mac podman pushes from its Linux machine, which never sees the
	// --cert-dir paude passes: the fix is the machine's certs.d.
	for _, tt := range []struct{ os, want string }{
		{"darwin", "podman's machine does not trust its certificate"},
		{"linux", "its certificate is not trusted"},
	} {
		t.Run("a push refusing the cluster CA on "+tt.os, func(t *testing.T) {
			reg := newFakeRegistry(t)
			tb, pm := registryBackend(t, reg)
			tb.opts.HostOS = tt.os
			pm.fail = map[string]error{"push": &podmancli.ExitError{Args: []string{"push"}, Code: 125,
				Stderr: "Error: trying to reuse blob sha256:0f3a at destination: pinging container registry " + reg.host() + ": Get \"https://" + reg.host() + "/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority"}}
			err := push(t, tb)
			if err == nil || !containsAll(err.Error(), tt.want, "x509: certificate signed by unknown authority", "--registry-insecure") {
				t.Fatalf("err = %v", err)
			}
			ca := filepath.Join(registryDir(tb.opts.CacheDir, reg.host()), "certs", "cluster-ca.crt")
			fix := "'podman machine ssh \"sudo mkdir -p /etc/containers/certs.d/" + reg.host() + " && sudo tee /etc/containers/certs.d/" + reg.host() + "/ca.crt >/dev/null\" < " + ca + "'"
			if strings.Contains(err.Error(), fix) != (tt.os == "darwin") {
				t.Errorf("err = %v\nfix for the machine: %s", err, fix)
			}
		})
	}
}

// TestStartSessionPushesAndUsesThePullSecret: a start without --image
// pushes the workspace image, names it by the pull reference in the pod,
// and gives the pod the namespace's pull secret, which holds the token
// for the registry and belongs to no session.
func TestStartSessionPushesAndUsesThePullSecret(t *testing.T) {
	reg := newFakeRegistry(t)
	tb, _ := registryBackend(t, reg, teamNS)
	onPodWatch(tb, makeReady)
	spec := startOpts(t)
	spec.Image = ""
	if _, err := tb.StartSession(context.Background(), spec); err != nil {
		t.Fatalf("StartSession: %v\nprogress:\n%s", err, tb.progress)
	}
	ctx := context.Background()
	pod, err := tb.cs.CoreV1().Pods("team").Get(ctx, PodName(testID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := pod.Spec.Containers[0].Image; !strings.HasPrefix(img, reg.host()+"/team/paude-workspace:") {
		t.Errorf("pod image %s", img)
	}
	if len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != PullSecretName {
		t.Errorf("pull secrets %v", pod.Spec.ImagePullSecrets)
	}
	secret, err := tb.cs.CoreV1().Secrets("team").Get(ctx, PullSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]struct{ Username, Password string } `json:"auths"`
	}
	if err := json.Unmarshal(secret.Data[corev1.DockerConfigJsonKey], &cfg); err != nil || cfg.Auths[reg.host()].Password != testToken {
		t.Errorf("pull secret %s: %v", secret.Data[corev1.DockerConfigJsonKey], err)
	}
	if secret.Type != corev1.SecretTypeDockerConfigJson || secret.Labels[backend.LabelSessionID] != "" || secret.Labels[backend.LabelRole] != backend.RoleRegistry {
		t.Errorf("pull secret %s labels %v", secret.Type, secret.Labels)
	}
	if strings.Contains(tb.progress.String(), testToken) {
		t.Error("the progress shows the token")
	}
	// stop --all removes it with the sessions.
	if err := tb.StopAll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.cs.CoreV1().Secrets("team").Get(ctx, PullSecretName, metav1.GetOptions{}); err == nil {
		t.Error("stop --all left the pull secret")
	}
}

// recipesOf is planImages' recipe function for fixed recipes.
func recipesOf(rs ...*image.Recipe) func(platform) ([]*image.Recipe, error) {
	return func(platform) ([]*image.Recipe, error) { return rs, nil }
}

func TestRegistryUser(t *testing.T) {
	for user, want := range map[string]string{
		"alice": "alice", "": "paude", "system:serviceaccount:team:ci": "serviceaccount", "system:admin": "paude",
	} {
		if got := registryUser(user); got != want {
			t.Errorf("registryUser(%q) = %q, want %q", user, got, want)
		}
	}
}

func TestRefusedCredentials(t *testing.T) {
	tests := []struct {
		name, stderr string
		want         bool
	}{
		{"unauthorized", "Error: reading manifest latest in 10.0.0.1:5000/ns/img: unauthorized: authentication required", true},
		{"status 401", "Error: writing blob: initiating layer upload to /v2/ns/img/blobs/uploads/ in registry:5000: received unexpected HTTP status: 401 Unauthorized", true},
		{"denied", "Error: requested access to the resource is denied", true},
		// 401 among the digits of a port or a digest is no status.
		{"401 in a port", `Error: pinging container registry 127.0.0.1:40185: Get "https://127.0.0.1:40185/v2/": x509: certificate signed by unknown authority`, false},
		{"401 in a digest", "Copying blob sha256:8c401f3e: connection reset by peer", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusedCredentials(tt.stderr); got != tt.want {
				t.Errorf("refusedCredentials(%q) = %v, want %v", tt.stderr, got, tt.want)
			}
		})
	}
}
