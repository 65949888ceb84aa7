//go:build integration

package kube_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// rootPath is root's usual PATH: podman's network helpers run iptables
// and nft from the sbin directories.
const rootPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// userCLI is `kubectl paude` as a developer runs it: the testbed's real
// kubectl finding the built plugin on PATH, in a workspace directory,
// with a home and a kubeconfig of the developer's own.
type userCLI struct {
	t          *testing.T
	kubectl    string
	plugin     string
	kubeconfig string
	home       string
	dir        string
	// env is added to the command's environment (a model provider's
	// variables, say).
	env []string
}

func newUserCLI(t *testing.T, c *kubetest.Cluster, kubeconfig, dir string) *userCLI {
	t.Helper()
	u := &userCLI{t: t, kubectl: filepath.Join(c.BinDir, "kubectl"), plugin: pluginBinary(t),
		kubeconfig: kubeconfig, home: t.TempDir(), dir: dir}
	// The developer wrote the workspace's configuration: they trust it,
	// as a start without a terminal otherwise refuses.
	u.must("trust", "--yes")
	return u
}

// run runs `kubectl paude ARGS` and returns its stdout and stderr.
func (u *userCLI) run(args ...string) (stdout, stderr string, err error) {
	u.t.Helper()
	cmd := exec.Command(u.kubectl, append([]string{"paude"}, args...)...)
	cmd.Dir = u.dir
	cmd.Env = []string{"PATH=" + filepath.Dir(u.plugin) + ":" + rootPath, "HOME=" + u.home,
		"KUBECONFIG=" + u.kubeconfig, "CONTAINERS_CONF=" + podmanConf}
	cmd.Env = append(cmd.Env, u.env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// must runs `kubectl paude ARGS`, failing the test when it fails, and
// logs how long it took.
func (u *userCLI) must(args ...string) (stdout, stderr string) {
	u.t.Helper()
	start := time.Now()
	stdout, stderr, err := u.run(args...)
	u.t.Logf("MEASURE kubectl paude %s: %s", strings.Join(args, " "), time.Since(start).Round(10*time.Millisecond))
	if err != nil {
		u.t.Fatalf("kubectl paude %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout, stderr
}

// writeWorkspace writes files (relative path → content) into a new
// workspace directory.
func writeWorkspace(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// argvWatch scans every process's argv, until stopped, for a secret.
type argvWatch struct {
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	hits   []string
	scans  int
	secret []byte
}

// watchArgv starts scanning /proc/*/cmdline for secret, as often as it
// can: a podman login or push that took the token as an argument would
// show up in one of the scans.
func watchArgv(secret string) *argvWatch {
	w := &argvWatch{stop: make(chan struct{}), done: make(chan struct{}), secret: []byte(secret)}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, p := range procs {
				argv, err := os.ReadFile(p)
				if err == nil && bytes.Contains(argv, w.secret) {
					w.mu.Lock()
					w.hits = append(w.hits, p+": "+string(bytes.ReplaceAll(argv, []byte{0}, []byte{' '})))
					w.mu.Unlock()
				}
			}
			w.mu.Lock()
			w.scans++
			w.mu.Unlock()
		}
	}()
	return w
}

// finish stops the scan and returns what it found and how many full
// scans it made.
func (w *argvWatch) finish() (hits []string, scans int) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hits, w.scans
}

// paudeObjects lists every object labelled app=paude in ns, of the kinds
// a start creates, session or not (proxies, policies, pull secrets).
func paudeObjects(t *testing.T, c *kubetest.Cluster, ns string) []string {
	t.Helper()
	ctx := context.Background()
	opts := metav1.ListOptions{LabelSelector: backend.LabelApp + "=" + backend.AppName}
	var found []string
	add := func(kind string, names ...string) {
		for _, n := range names {
			found = append(found, kind+"/"+n)
		}
	}
	if l, err := c.Client.CoreV1().Pods(ns).List(ctx, opts); err == nil {
		for _, o := range l.Items {
			add("pod", o.Name)
		}
	}
	if l, err := c.Client.CoreV1().Secrets(ns).List(ctx, opts); err == nil {
		for _, o := range l.Items {
			add("secret", o.Name)
		}
	}
	if l, err := c.Client.CoreV1().PersistentVolumeClaims(ns).List(ctx, opts); err == nil {
		for _, o := range l.Items {
			add("pvc", o.Name)
		}
	}
	if l, err := c.Client.CoreV1().Services(ns).List(ctx, opts); err == nil {
		for _, o := range l.Items {
			add("service", o.Name)
		}
	}
	if l, err := c.Client.AppsV1().Deployments(ns).List(ctx, opts); err == nil {
		for _, o := range l.Items {
			add("deployment", o.Name)
		}
	}
	if l, err := c.Client.NetworkingV1().NetworkPolicies(ns).List(ctx, opts); err == nil {
		for _, o := range l.Items {
			add("networkpolicy", o.Name)
		}
	}
	return found
}

// execCommand is a command with the given environment and stdin.
func execCommand(env []string, stdin io.Reader, argv ...string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Stdin = env, stdin
	return cmd
}

// createRole creates ClusterRole name with rules for the test (the
// testbed's ServiceAccountToken binds cluster roles in a namespace), and
// deletes it when the test ends.
func createRole(t *testing.T, c *kubetest.Cluster, name string, rules []rbacv1.PolicyRule) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	if _, err := c.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// pluginDir is the directory holding the built kubectl-paude, for PATH.
func (u *userCLI) pluginDir() string { return filepath.Dir(u.plugin) }
