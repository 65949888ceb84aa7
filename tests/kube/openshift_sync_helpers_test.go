//go:build integration

package kube_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// The workspace sync tests drive the built kubectl-paude as a user does,
// through the testbed's real kubectl, in a namespace where pods run as
// OpenShift runs them: an arbitrary UID in group 0 (the testbed's
// MutatingAdmissionPolicy) under the restricted Pod Security profile.

// arbitraryUID is the UID the namespace's range assigns.
const arbitraryUID = "1000650000"

// syncUser is one user's machine: a workspace, a home, a kubeconfig
// with the edit role in the namespace, and the plugin on PATH.
type syncUser struct {
	t          *testing.T
	c          *kubetest.Cluster
	ns         string
	ws         string
	home       string
	kubeconfig string
	plugin     string
	img        string
}

// newSyncUser makes the namespace and the user's machine; the workspace's
// paude.json keeps the session's volume on stop (so a failure can be
// looked at) and asks for small resources.
func newSyncUser(t *testing.T, wsName string) *syncUser {
	t.Helper()
	c := kubetest.Require(t)
	requireTool(t, "git")
	u := &syncUser{t: t, c: c, img: workspaceImage(t), plugin: pluginBinary(t)}
	u.ns = openshiftNamespace(t, c)
	u.kubeconfig = editorKubeconfig(t, c, u.ns)
	u.home = writeHome(t, map[string]string{".gitconfig": "[user]\n\tname = Agent\n\temail = agent@example.invalid\n"})
	u.ws = hostWorkspace(t, wsName)
	paudeJSON := fmt.Sprintf(`{"backend": {
		"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
		"workspace": {"keepOnStop": false}, "startTimeout": %q}}`, kubetest.PodTimeout.String())
	if err := os.WriteFile(filepath.Join(u.ws, "paude.json"), []byte(paudeJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	return u
}

// openshiftNamespace is a namespace as an OpenShift project is for pods:
// restricted, with a UID range the admission policy assigns from.
func openshiftNamespace(t *testing.T, c *kubetest.Cluster) string {
	t.Helper()
	ns := c.Namespace(t, restrictedNamespace)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	obj, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	obj.Annotations = map[string]string{uidRange: arbitraryUID + "/10000"}
	if _, err := c.Client.CoreV1().Namespaces().Update(ctx, obj, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("failed to give namespace %s a UID range: %v", ns, err)
	}
	return ns
}

// env is the user's environment for kubectl paude.
func (u *syncUser) env() []string {
	return []string{"PATH=" + filepath.Dir(u.plugin) + ":/usr/bin:/bin", "HOME=" + u.home, "KUBECONFIG=" + u.kubeconfig,
		"CONTAINERS_CONF=" + podmanConf, "TERM=xterm-256color"}
}

// paude runs `kubectl paude ARGS -n NS` in the workspace and returns its
// stdout and stderr.
func (u *syncUser) paude(args ...string) (string, string, error) {
	u.t.Helper()
	start := time.Now()
	cmd := exec.Command(filepath.Join(u.c.BinDir, "kubectl"), append(append([]string{"paude"}, args...), "-n", u.ns)...)
	cmd.Dir, cmd.Env = u.ws, u.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	u.t.Logf("MEASURE kubectl paude %s: %s", strings.Join(args, " "), time.Since(start).Round(10*time.Millisecond))
	return stdout.String(), stderr.String(), err
}

// mustPaude is paude that fails the test on an error.
func (u *syncUser) mustPaude(args ...string) (string, string) {
	u.t.Helper()
	out, errOut, err := u.paude(args...)
	if err != nil {
		u.t.Fatalf("kubectl paude %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out, errOut
}

// start trusts the workspace's configuration and starts its session
// detached (the first sync done), returning the session ID. The session
// has open network: sync goes through the API server and the kubelet,
// never the pod's network, and a proxy would cost each test's namespace
// a push of the proxy image (the network tests cover it).
func (u *syncUser) start() string {
	u.t.Helper()
	u.mustPaude("trust", "--yes")
	out, errOut := u.mustPaude("--detach", "--allow-network", "--image", u.img)
	id := strings.TrimSpace(out)
	if backend.ValidateSessionID(id) != nil {
		u.t.Fatalf("--detach printed %q, want a session ID\nstderr:\n%s", out, errOut)
	}
	u.t.Logf("start:\n%s", errOut)
	u.t.Cleanup(func() { _, _, _ = u.paude("stop", id) })
	return id
}

// terminal is a terminal running `kubectl paude attach ID`.
func (u *syncUser) terminal() *terminal {
	return newTerminal(u.t, u.env())
}

// attachArgv is `kubectl paude attach ID -n NS` as typed.
func (u *syncUser) attachArgv(id string) []string {
	return []string{"env", "-C", u.ws, "PATH=" + filepath.Dir(u.plugin) + ":/usr/bin:/bin",
		filepath.Join(u.c.BinDir, "kubectl"), "paude", "attach", id, "-n", u.ns}
}

// podDir is the workspace's directory in the pod.
func (u *syncUser) podDir() string { return path.Join("/workspace", filepath.Base(u.ws)) }

// inPod runs a bash script in the session's agent container, in the
// workspace, as the agent would.
func (u *syncUser) inPod(id, script string) string {
	u.t.Helper()
	out, err := execIn(u.t, u.c, u.ns, id, "cd "+u.podDir()+" && "+script)
	if err != nil {
		u.t.Fatalf("in the pod: %s: %v\n%s", script, err, out)
	}
	return out
}

// podHas reports what a file in the pod holds ("" and false when it is
// not there).
func (u *syncUser) podHas(id, rel string) (string, bool) {
	out, err := execIn(u.t, u.c, u.ns, id, "cat "+u.podDir()+"/"+rel)
	return out, err == nil
}

// local reads a workspace file ("" and false when it is not there).
func (u *syncUser) local(rel string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(u.ws, filepath.FromSlash(rel)))
	return string(b), err == nil
}

// write writes a workspace file.
func (u *syncUser) write(rel, content string) {
	u.t.Helper()
	p := filepath.Join(u.ws, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		u.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		u.t.Fatal(err)
	}
}

// git runs git in the workspace.
func (u *syncUser) git(args ...string) string {
	u.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = u.ws
	cmd.Env = append(os.Environ(), "HOME="+u.home, "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		u.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// eventually polls cond until it holds; the bound is for a hung cluster,
// not a performance expectation. It returns how long it took.
func eventually(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start).Round(10 * time.Millisecond)
}

// gitFiles maps every file below a git directory to its SHA-256.
func gitFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = fileSum(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fileSum is a file's SHA-256 in hex.
func fileSum(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// assertOnlyFetched checks that the host's .git changed only by what a
// fetch of the session's commits may write: new objects, and the refs
// (with their reflogs) under paude/<id>.
func assertOnlyFetched(t *testing.T, before, after map[string]string, id string) {
	t.Helper()
	allowed := func(p string) bool {
		return strings.HasPrefix(p, "objects/") ||
			strings.HasPrefix(p, "refs/remotes/paude/"+id+"/") || strings.HasPrefix(p, "logs/refs/remotes/paude/"+id+"/") ||
			strings.HasPrefix(p, "refs/paude/"+id+"/") || strings.HasPrefix(p, "logs/refs/paude/"+id+"/")
	}
	var changed []string
	for p, sum := range before {
		if after[p] != sum {
			changed = append(changed, "changed or removed: "+p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && !allowed(p) {
			changed = append(changed, "added: "+p)
		}
	}
	sort.Strings(changed)
	if len(changed) > 0 {
		t.Errorf("the host's .git changed beyond the fetched objects and refs:\n  %s", strings.Join(changed, "\n  "))
	}
}

// signal sends sig to the terminal's attach client.
func (tm *terminal) signal(sig syscall.Signal) int {
	tm.t.Helper()
	shell := strings.TrimSpace(tm.tmux("display-message", "-p", "-t", "main", "#{pane_pid}"))
	children, err := os.ReadFile("/proc/" + shell + "/task/" + shell + "/children")
	if err != nil {
		tm.t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(strings.TrimSpace(string(children)), &pid); err != nil {
		tm.t.Fatalf("cannot find the attach client under pid %s: %q", shell, children)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		tm.t.Fatal(err)
	}
	return pid
}
