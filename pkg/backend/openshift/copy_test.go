package openshift

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/helperbin"
	"github.com/paude-dev/paude/pkg/image"
	psync "github.com/paude-dev/paude/pkg/sync"
)

// logAttaches records terminal streams among the sync steps, so a test
// sees their order.
func logAttaches(tb *testBackend) {
	tb.exec.onStream = func(tty bool) {
		if tty {
			_ = tb.sync.record("attach")
		}
	}
}

// readyCommand is the command that tells the pod its workspace is there.
func isReadyCommand(argv []string) bool {
	return len(argv) > 0 && argv[len(argv)-1] == WorkspaceReadyFile && strings.Contains(strings.Join(argv, " "), `: >"$2"`)
}

func TestStartSessionCopiesTheWorkspaceFirst(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS)
	onPodWatch(tb, makeReady)
	spec := startOpts(t)
	if _, err := tb.StartSession(context.Background(), spec); err != nil {
		t.Fatalf("StartSession: %v\nprogress:\n%s", err, tb.progress)
	}
	if got, want := tb.sync.Calls(), []string{"new auto", "once"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sync calls %v, want %v", got, want)
	}
	o := tb.sync.opts[0]
	want := psync.Options{
		LocalRoot: spec.Workspace, RemoteRoot: WorkspaceDirFor(spec.Workspace), SessionID: testID, PodName: PodName(testID),
		HelperPath: image.HelperPath, Excludes: []string{"node_modules", ".venv", "__pycache__"},
	}
	got := psync.Options{LocalRoot: o.LocalRoot, RemoteRoot: o.RemoteRoot, SessionID: o.SessionID, PodName: o.PodName, HelperPath: o.HelperPath, Excludes: o.Excludes}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sync options %+v, want %+v", got, want)
	}
	if o.Exec == nil || o.Progress == nil {
		t.Error("sync has no transport or no progress")
	}
	cmds := tb.exec.commands()
	if len(cmds) != 1 || !isReadyCommand(cmds[0]) {
		t.Errorf("commands in the pod %q, want only the ready file (the workspace is no git repository)", cmds)
	}
	// The start says it is ready only once the workspace is there.
	if p := tb.progress.String(); !strings.Contains(p, "Session "+testID+" is ready") {
		t.Errorf("progress:\n%s", p)
	}
}

func TestStartSessionFailedFirstSyncLeavesNothing(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS)
	onPodWatch(tb, makeReady)
	tb.sync.fail["once"] = errors.New("the session has no runnable sync helper at /usr/local/bin/paude (exit code 127)")
	_, err := tb.StartSession(context.Background(), startOpts(t))
	if err == nil || !containsAll(err.Error(), "failed to copy the workspace into session "+testID, "no runnable sync helper") {
		t.Fatalf("err = %v", err)
	}
	if left := sessionObjectsLeft(t, tb.cs, "team", testID); len(left) != 0 {
		t.Errorf("a failed first sync left %v", left)
	}
	if cmds := tb.exec.commands(); len(cmds) != 0 {
		t.Errorf("the pod was told its workspace is there: %q", cmds)
	}
}

func TestStartSessionWithoutHelper(t *testing.T) {
	tb, _ := registryBackend(t, newFakeRegistry(t), teamNS)
	tb.opts.Helpers = func(arch string) (*helperbin.Binary, error) {
		return nil, errors.New("this paude (darwin/arm64) has no linux/" + arch + " build of itself")
	}
	spec := startOpts(t)
	spec.Image = ""
	_, err := tb.StartSession(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "has no linux/amd64 build of itself") {
		t.Fatalf("err = %v", err)
	}
	if left := sessionObjectsLeft(t, tb.cs, "team", testID); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}

func TestAttachSyncsAroundTheTerminal(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS, sessionPod(testID, makeReady), claimWithSync(testID, "devspace", `["dist/"]`))
	logAttaches(tb)
	code, err := tb.AttachSession(context.Background(), testID, genericiooptions.IOStreams{Out: &bytes.Buffer{}})
	if err != nil || code != 0 {
		t.Fatalf("AttachSession = %d, %v", code, err)
	}
	// The engine the session was started with, not the current config's.
	if got, want := tb.sync.Calls(), []string{"new devspace", "start", "attach", "stop"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	o := tb.sync.opts[0]
	if !reflect.DeepEqual(o.Excludes, []string{"dist/"}) || o.DevSpace.Pod != PodName(testID) || o.DevSpace.Namespace != "team" {
		t.Errorf("sync options: excludes %v, devspace %+v", o.Excludes, o.DevSpace)
	}
}

func TestAttachWithoutSync(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS, sessionPod(testID, makeReady), sessionClaim(testID))
	logAttaches(tb)
	tb.sync.fail["start"] = errors.New("cannot reach the helper")
	code, err := tb.AttachSession(context.Background(), testID, genericiooptions.IOStreams{Out: &bytes.Buffer{}})
	if err != nil || code != 0 {
		t.Fatalf("AttachSession = %d, %v", code, err)
	}
	if got, want := tb.sync.Calls(), []string{"new native", "start", "attach"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if !containsAll(tb.progress.String(), "cannot reach the helper", "attaching without sync", "`oc paude sync "+testID+"`") {
		t.Errorf("no warning:\n%s", tb.progress)
	}
}

func TestWorkspaceCopyStates(t *testing.T) {
	pending := func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }
	tests := []struct {
		name    string
		objects []runtime.Object
		wantErr string
	}{
		{"unknown session", nil, `session "` + testID + `" not found`},
		{"kept claim, no pod", []runtime.Object{sessionClaim(testID)}, "session " + testID + " is not running (its pod is gone, its workspace volume is kept): `oc paude attach " + testID + "` resumes it"},
		{"pending pod", []runtime.Object{sessionPod(testID, pending), sessionClaim(testID)}, "is not running (pod paude-" + testID + " is"},
		{"running", []runtime.Object{sessionPod(testID, makeReady), sessionClaim(testID)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, testConfig(), append([]runtime.Object{teamNS}, tt.objects...)...)
			w, err := tb.WorkspaceCopy(context.Background(), testID)
			if tt.wantErr != "" {
				var nr *backend.NotRunningError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || (tt.name != "unknown session") != errors.As(err, &nr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.SessionID != testID || w.Workspace != "/home/me/proj" || w.Remote != "/workspace/proj" || w.Pod != PodName(testID) ||
				w.Helper != image.HelperPath || w.ReadyFile != WorkspaceReadyFile || w.Method != "native" {
				t.Errorf("copy %+v", w)
			}
		})
	}
}

func TestStopSyncsFirst(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fail     bool
		wantLeft []string
	}{
		{"synced: the claim goes as configured", false, nil},
		{"not synced: the claim stays", true, []string{"persistentvolumeclaim/paude-" + testID + "-workspace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTestBackend(t, keepConfig(false), objects([]runtime.Object{teamNS}, fullSession(testID, makeReady))...)
			if tc.fail {
				tb.sync.fail["once"] = errors.New("connection reset")
			}
			if err := tb.StopSession(context.Background(), testID); err != nil {
				t.Fatal(err)
			}
			if got := tb.sync.Calls(); !reflect.DeepEqual(got, []string{"new native", "once"}) {
				t.Errorf("sync calls %v", got)
			}
			if left := sessionObjectsLeft(t, tb.cs, "team", testID); !reflect.DeepEqual(left, tc.wantLeft) {
				t.Errorf("left %v, want %v", left, tc.wantLeft)
			}
			if tc.fail && !strings.Contains(tb.progress.String(), "connection reset") {
				t.Errorf("the failed sync was not reported:\n%s", tb.progress)
			}
		})
	}
	t.Run("a stopped session is not synced", func(t *testing.T) {
		tb := newTestBackend(t, keepConfig(true), teamNS, sessionClaim(testID))
		if err := tb.StopSession(context.Background(), testID); err != nil {
			t.Fatal(err)
		}
		if calls := tb.sync.Calls(); len(calls) != 0 {
			t.Errorf("sync calls %v", calls)
		}
	})
}

// claimWithSync is a kept claim recording a sync method and excludes.
func claimWithSync(id, method, excludes string) *corev1.PersistentVolumeClaim {
	c := sessionClaim(id)
	c.Annotations[AnnotationSyncMethod] = method
	c.Annotations[AnnotationSyncExclude] = excludes
	return c
}

// A start builds the agent image with paude itself inside, for the
// architecture the images are built for: the pod runs the content tag of
// that recipe.
func TestStartSessionBuildsTheHelperIn(t *testing.T) {
	reg := newFakeRegistry(t)
	tb, _ := registryBackend(t, reg, teamNS)
	onPodWatch(tb, makeReady)
	var asked []string
	tb.opts.Helpers = func(arch string) (*helperbin.Binary, error) {
		asked = append(asked, arch)
		return fakeHelper(arch)
	}
	spec := startOpts(t)
	spec.Image = ""
	if _, err := tb.StartSession(context.Background(), spec); err != nil {
		t.Fatalf("StartSession: %v\nprogress:\n%s", err, tb.progress)
	}
	if !reflect.DeepEqual(asked, []string{tb.opts.HostArch}) {
		t.Fatalf("helpers asked for %v, want [%s]", asked, tb.opts.HostArch)
	}
	helper, _ := fakeHelper(tb.opts.HostArch)
	recipe, err := image.ClusterWorkspaceRecipe(tb.cfg, helper.Content)
	if err != nil {
		t.Fatal(err)
	}
	pod, err := tb.cs.CoreV1().Pods("team").Get(context.Background(), PodName(testID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := pod.Spec.Containers[0].Image; !strings.HasSuffix(img, "/team/"+recipe.Tag) {
		t.Errorf("pod image %s, want the tag of the recipe with the helper, %s", img, recipe.Tag)
	}
}
