//go:build integration

package kube_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/backend/openshift"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// fakeAgentInstall installs the fake agent through the agent.install
// setting users have: it prints who and where it runs and its arguments,
// then is an interactive shell, so a test can type into it, see state
// survive detaching, and end it with an exit code.
const fakeAgentInstall = `set -eu
cat > /usr/local/bin/fake-agent <<'AGENT'
#!/bin/bash
echo "FAKE AGENT READY uid=$(id -u) gid=$(id -g) pwd=$(pwd) args:$*"
export PS1='fake-agent$ '
exec bash --norc --noprofile -i
AGENT
chmod 0755 /usr/local/bin/fake-agent
`

// repoRoot is the repository root (tests run in tests/kube).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// requireTool skips (or fails under PAUDE_REQUIRE_ALL=1) when a program
// the test drives is missing.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv(kubetest.EnvRequireAll) == "1" {
		t.Fatalf("%s required (%s=1) but not found on PATH", name, kubetest.EnvRequireAll)
	}
	t.Skipf("%s not found on PATH", name)
	return ""
}

var (
	imageOnce sync.Once
	imageRef  string
	imageErr  error
	imageTook time.Duration
)

// workspaceImage builds paude's real cluster workspace image (our
// Containerfile, entrypoint and tmux.conf, and the built kubectl-paude as
// the sync helper, from pkg/image) with the fake agent, and loads it into
// the testbed node. hack/podman/install.sh provides podman
// and the local base image (idempotent: it only checks once done). Both
// run in the host's network namespace, where the apt mirror is
// reachable; the testbed's namespace reaches nothing outside. Built once
// per test binary; the build is skipped when the content tag exists.
func workspaceImage(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	helper := helperContent(t)
	imageOnce.Do(func() {
		start := time.Now()
		imageRef, imageErr = buildWorkspaceImage(root, helper)
		imageTook = time.Since(start)
	})
	if imageErr != nil {
		t.Fatalf("failed to provide the workspace image: %v", imageErr)
	}
	t.Logf("workspace image %s ready (build and load took %s)", imageRef, imageTook.Round(100*time.Millisecond))
	return imageRef
}

func buildWorkspaceImage(root string, helper []byte) (string, error) {
	tag, err := buildImage(root, helper, map[string]any{
		"agent": map[string]any{"name": "fake-agent", "command": "fake-agent", "install": fakeAgentInstall},
	})
	if err != nil {
		return "", err
	}
	return loadImage(root, tag)
}

// helperContent is the built kubectl-paude, the sync helper the session
// images carry.
func helperContent(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(pluginBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// buildImage builds paude's cluster image (with helper, the built
// kubectl-paude, as its sync helper) for a project whose paude.json is
// settings, with podman, outside the testbed's network namespace (the apt
// mirror and npm are reachable there), unless its content tag exists. It
// returns the tag.
func buildImage(root string, helper []byte, settings map[string]any) (string, error) {
	dir, err := os.MkdirTemp("", "paude-kt-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	project := filepath.Join(dir, "project")
	paudeJSON, err := json.Marshal(settings)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(project, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(project, "paude.json"), paudeJSON, 0o644); err != nil {
		return "", err
	}
	cfg, err := config.Load(project)
	if err != nil {
		return "", fmt.Errorf("failed to load the image's paude.json: %w", err)
	}
	plan, err := image.ClusterWorkspaceRecipe(cfg, helper)
	if err != nil {
		return "", err
	}
	outside := outsideCommand()
	if out, err := run(os.Environ(), append(outside, filepath.Join(root, "hack/podman/install.sh"))...); err != nil {
		return "", fmt.Errorf("hack/podman/install.sh failed: %w\n%s", err, tail(out, 20))
	}
	env := append(os.Environ(), "CONTAINERS_CONF="+podmanConf)
	if _, err := run(env, "podman", "image", "exists", plan.Tag); err != nil {
		buildDir := filepath.Join(dir, "context")
		if err := plan.WriteContext(buildDir); err != nil {
			return "", err
		}
		args := append(append([]string{}, outside...), "podman", "build", "--pull=never", "-f", filepath.Join(buildDir, image.ContainerfileName), "-t", plan.Tag, buildDir)
		if out, err := run(env, args...); err != nil {
			return "", fmt.Errorf("podman build failed: %w\n%s", err, tail(out, 40))
		}
	}
	return plan.Tag, nil
}

// loadImage loads a local image into the testbed's node and returns the
// name pods use for it.
func loadImage(root, tag string) (string, error) {
	env := append(os.Environ(), "CONTAINERS_CONF="+podmanConf)
	if out, err := run(env, filepath.Join(root, "hack/testbed/load-image.sh"), tag); err != nil {
		return "", fmt.Errorf("failed to load %s into the node: %w\n%s", tag, err, tail(out, 20))
	}
	return "localhost/" + strings.TrimPrefix(tag, "localhost/"), nil
}

// outsideCommand prefixes a command to run it in the host's network
// namespace (outsideNetns); nothing when the tests run there.
func outsideCommand() []string {
	if netns := outsideNetns(); netns != "" {
		return []string{"nsenter", "--net=" + netns, "--"}
	}
	return nil
}

// outsideNetns finds the network namespace to build images in: that of
// the nearest ancestor process outside our own. `go test -exec nsenter`
// runs the test binary inside the testbed's namespace, which reaches no
// apt mirror, while go test itself stays outside. "" means no ancestor is
// elsewhere (the tests run on the host).
func outsideNetns() string {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return ""
	}
	for pid := os.Getppid(); pid > 1; {
		path := fmt.Sprintf("/proc/%d/ns/net", pid)
		if ns, err := os.Readlink(path); err == nil && ns != self {
			return path
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return ""
		}
		// Field 4 is the parent PID; the command in field 2 may hold
		// spaces, so count from its closing parenthesis.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 {
			return ""
		}
		if pid, err = strconv.Atoi(fields[1]); err != nil {
			return ""
		}
	}
	return ""
}

// run runs a command and returns its combined output.
func run(env []string, argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// tail keeps the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// hostWorkspace is a fresh, empty workspace directory named name (the
// session's directory in the pod is /workspace/<name>).
func hostWorkspace(t *testing.T, name string) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	return ws
}

// randomSuffix is 6 hex digits.
func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// workspaceStorage makes a storage class with no provisioner and n
// hostPath volumes in it, writable by any UID (the testbed has no dynamic
// provisioner; a real cluster's default class would provision them). It
// returns the class name; everything is removed when the test ends.
func workspaceStorage(t *testing.T, c *kubetest.Cluster, n int) string {
	t.Helper()
	ctx := context.Background()
	class := "kt-paude-" + randomSuffix()
	immediate := storagev1.VolumeBindingImmediate
	sc := &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: class},
		Provisioner:       "kubernetes.io/no-provisioner",
		VolumeBindingMode: &immediate,
	}
	if _, err := c.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("failed to create storage class: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Client.StorageV1().StorageClasses().Delete(context.Background(), class, metav1.DeleteOptions{})
	})
	for i := range n {
		name := fmt.Sprintf("%s-%d", class, i)
		dir := filepath.Join("/var/tmp/paude-kt-volumes", name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		// MkdirAll obeys the umask; the agent's UID must be able to write.
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeSpec{
				StorageClassName:              class,
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}},
			},
		}
		if _, err := c.Client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
			t.Fatalf("failed to create volume: %v", err)
		}
		t.Cleanup(func() {
			err := c.Client.CoreV1().PersistentVolumes().Delete(context.Background(), name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("failed to delete volume %s: %v", name, err)
			}
			_ = os.RemoveAll(dir)
		})
	}
	return class
}

// sessionConfig is the configuration the tests start sessions with: the
// fake agent, small requests (the node has two cores), the test's storage
// class.
func sessionConfig(class string, keep bool) *config.Config {
	cfg := openshift.DefaultConfig()
	// The agent the workspace image runs (Claude Code would need a model
	// provider before a start goes ahead).
	cfg.Agent.Name, cfg.Agent.Command = "fake-agent", "fake-agent"
	cfg.Backend.Resources = config.Resources{
		Requests: config.ResourceList{CPU: resource.MustParse("100m"), Memory: resource.MustParse("128Mi")},
		Limits:   config.ResourceList{CPU: resource.MustParse("1"), Memory: resource.MustParse("512Mi")},
	}
	cfg.Backend.Workspace.StorageClass = class
	cfg.Backend.Workspace.KeepOnStop = keep
	cfg.Backend.StartTimeout = kubetest.PodTimeout
	return cfg
}

// syncBuffer collects progress lines from the backend's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// kubeFlags are kubectl's connection flags for a kubeconfig and a
// namespace.
func kubeFlags(kubeconfig, ns string) *genericclioptions.ConfigFlags {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	flags.Namespace = &ns
	return flags
}

// paudeBackend is the OpenShift backend as the plugin builds it: from
// kubeconfig flags (the given kubeconfig, namespace ns), with home as the
// user's home directory.
func paudeBackend(t *testing.T, kubeconfig, ns string, cfg *config.Config, home string, progress *syncBuffer) *openshift.Backend {
	t.Helper()
	// A cache of the test's own: the registry's login and CA files are
	// kept per registry host, which every testbed on the machine shares.
	b, err := openshift.New(openshift.Options{ConfigFlags: kubeFlags(kubeconfig, ns), Config: cfg, Progress: progress, Home: home,
		CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// labelledObjects lists every object in ns that carries the session's
// label, of every kind a session creates.
func labelledObjects(t *testing.T, c *kubetest.Cluster, ns, id string) []string {
	t.Helper()
	ctx := context.Background()
	opts := metav1.ListOptions{LabelSelector: backend.LabelSessionID + "=" + id}
	var left []string
	pods, err := c.Client.CoreV1().Pods(ns).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range pods.Items {
		left = append(left, "pod/"+o.Name)
	}
	secrets, err := c.Client.CoreV1().Secrets(ns).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range secrets.Items {
		left = append(left, "secret/"+o.Name)
	}
	cms, err := c.Client.CoreV1().ConfigMaps(ns).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range cms.Items {
		left = append(left, "configmap/"+o.Name)
	}
	pvcs, err := c.Client.CoreV1().PersistentVolumeClaims(ns).List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range pvcs.Items {
		left = append(left, "persistentvolumeclaim/"+o.Name)
	}
	return left
}

// writeHome writes files (slash-separated paths) into a fresh home.
func writeHome(t *testing.T, files map[string]string) string {
	t.Helper()
	home := t.TempDir()
	for rel, content := range files {
		path := filepath.Join(home, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home
}
