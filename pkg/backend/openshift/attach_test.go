package openshift

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// sessionPod is a session pod in the given phase.
func sessionPod(id string, mutate func(*corev1.Pod)) *corev1.Pod {
	pod, err := PodFor(PodParams{ID: id, Namespace: "team", Image: "img:old", HostWorkspace: "/home/me/proj", CreatedAt: testNow, Config: testConfig()})
	if err != nil {
		panic(err)
	}
	pod.TypeMeta = metav1.TypeMeta{}
	if mutate != nil {
		mutate(pod)
	}
	return pod
}

// sessionClaim is a kept workspace claim recording image and args.
func sessionClaim(id string) *corev1.PersistentVolumeClaim {
	pvc, err := WorkspaceClaimFor(WorkspaceClaimParams{ID: id, Namespace: "team", HostWorkspace: "/home/me/proj",
		Image: "img:kept", AgentArgs: []string{"--resume-arg"}, CreatedAt: testNow, OpenNetwork: true})
	if err != nil {
		panic(err)
	}
	pvc.TypeMeta = metav1.TypeMeta{}
	return pvc
}

func TestAttachRunningSession(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS, sessionPod(testID, makeReady))
	tb.exec.err = utilexec.CodeExitError{Err: errors.New("command terminated with non-zero exit code"), Code: 3}
	var out bytes.Buffer
	code, err := tb.AttachSession(context.Background(), testID, genericiooptions.IOStreams{In: strings.NewReader("hi"), Out: &out})
	if err != nil || code != 3 {
		t.Fatalf("AttachSession = %d, %v; want 3, nil", code, err)
	}
	urls, allOpts := tb.exec.terminals()
	if len(urls) != 1 {
		t.Fatalf("%d terminal exec calls", len(urls))
	}
	u := urls[0]
	if u.Path != "/api/v1/namespaces/team/pods/paude-"+testID+"/exec" {
		t.Errorf("exec path = %s", u.Path)
	}
	q := u.Query()
	wantQ := url.Values{
		"command":   {"/usr/local/bin/paude-entrypoint", "attach"},
		"container": {"paude"}, "stdin": {"true"}, "stdout": {"true"}, "tty": {"true"},
	}
	if !reflect.DeepEqual(q, wantQ) {
		t.Errorf("exec query = %v, want %v", q, wantQ)
	}
	opts := allOpts[0]
	if !opts.Tty || opts.Stdin == nil || opts.Stderr != nil || opts.TerminalSizeQueue != nil {
		t.Errorf("stream options = %+v", opts)
	}
	if !strings.Contains(tb.progress.String(), "input is not a terminal") {
		t.Errorf("no warning for non-terminal input:\n%s", tb.progress)
	}
	// What the pod sends goes through the terminal filter: a clipboard
	// write, a title and tmux passthrough are removed, the text stays.
	if _, err := opts.Stdout.Write([]byte("a\x1b]52;c;ZXZpbA==\x07b\x1b]2;title\x07c\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\d")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "abcd" {
		t.Errorf("the terminal got %q, want the text without the sequences", out.String())
	}
}

func TestAttachExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		screen   string
		err      error
		wantCode int
		wantErr  string
	}{
		{"detached", "", nil, 0, ""},
		{"agent exit", "", utilexec.CodeExitError{Err: errors.New("exit"), Code: 42}, 42, ""},
		{"stream failure", "", errors.New("websocket: close 1006"), 1, "failed to attach to pod paude-" + testID},
		{"connection lost once attached", "the screen", errors.New("websocket: close 1006 (abnormal closure)"), 1,
			"lost the connection to session " + testID + " (websocket: close 1006 (abnormal closure)): the session keeps running; `oc paude attach " + testID + "` reconnects to it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, testConfig(), teamNS, sessionPod(testID, makeReady))
			tb.exec.err, tb.exec.write = tt.err, tt.screen
			code, err := tb.AttachSession(context.Background(), testID, genericiooptions.IOStreams{Out: &bytes.Buffer{}})
			if code != tt.wantCode || (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("AttachSession = %d, %v; want %d, %q", code, err, tt.wantCode, tt.wantErr)
			}
			// Without input the exec asks for no stdin stream.
			urls, _ := tb.exec.terminals()
			if got := urls[0].Query().Get("stdin"); got != "" {
				t.Errorf("stdin = %q with no input", got)
			}
		})
	}
}

func TestAttachUnknownSession(t *testing.T) {
	other := "1772300000-aaaaaaaa"
	tb := newTestBackend(t, testConfig(), teamNS, sessionPod(other, makeReady))
	_, err := tb.AttachSession(context.Background(), testID, genericiooptions.IOStreams{})
	var nf *backend.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, backend.ErrSessionNotFound) {
		t.Fatalf("err = %v, want NotFoundError", err)
	}
	if !reflect.DeepEqual(nf.Known, []string{other}) {
		t.Errorf("known = %v, want [%s]", nf.Known, other)
	}
	if len(tb.exec.urls) != 0 {
		t.Errorf("exec called for an unknown session")
	}
}

func TestAttachResumes(t *testing.T) {
	tests := []struct {
		name    string
		objects []runtime.Object
		want    string
	}{
		{"pod gone", []runtime.Object{teamNS, sessionClaim(testID)}, "Session " + testID + " has no pod; resuming it on its kept workspace volume paude-" + testID + "-workspace"},
		{"pod ended", []runtime.Object{teamNS, sessionClaim(testID), sessionPod(testID, statusOf(podWith(corev1.PodFailed, terminated(124, "Error"))))},
			"Session " + testID + " ended (" + ReasonTimedOut + "); resuming it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, testConfig(), tt.objects...)
			writeFile(t, tb.home, ".gitconfig", []byte("[user]\n"))
			onPodWatch(tb, makeReady)
			code, err := tb.AttachSession(context.Background(), testID, genericiooptions.IOStreams{Out: &bytes.Buffer{}})
			if err != nil || code != 0 {
				t.Fatalf("AttachSession = %d, %v\n%s", code, err, tb.progress)
			}
			if !strings.Contains(tb.progress.String(), tt.want) {
				t.Errorf("progress:\n%s\nwant %q", tb.progress, tt.want)
			}
			pod, err := tb.cs.CoreV1().Pods("team").Get(context.Background(), PodName(testID), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := pod.Spec.Containers[0]
			if c.Image != "img:kept" || !reflect.DeepEqual(c.Args, []string{"--", "--resume-arg"}) {
				t.Errorf("resumed pod runs %s %v, want the recorded image and args", c.Image, c.Args)
			}
			if pod.Status.Phase == corev1.PodFailed {
				t.Errorf("the ended pod was not replaced")
			}
			if _, err := tb.cs.CoreV1().Secrets("team").Get(context.Background(), SessionCredentialName(testID, CredentialGitconfig), metav1.GetOptions{}); err != nil {
				t.Errorf("credentials not recreated: %v", err)
			}
			assertNoConfigMaps(t, tb.cs)
			if urls, _ := tb.exec.terminals(); len(urls) != 1 {
				t.Errorf("terminal exec calls = %d, want 1", len(urls))
			}
		})
	}
}

func TestAttachEndedWithoutClaim(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS, sessionPod(testID, statusOf(podWith(corev1.PodSucceeded, terminated(0, "Completed")))))
	_, err := tb.AttachSession(context.Background(), testID, genericiooptions.IOStreams{})
	if err == nil || !containsAll(err.Error(), "has stopped (agent exited)", "workspace volume is gone", "`oc paude stop "+testID+"`") {
		t.Errorf("err = %v", err)
	}
}

func TestAttachWaitsForPendingPod(t *testing.T) {
	tb := newTestBackend(t, testConfig(), teamNS, sessionPod(testID, statusOf(podWith(corev1.PodPending, waiting("ContainerCreating", "")))))
	onPodWatch(tb, makeReady)
	if code, err := tb.AttachSession(context.Background(), testID, genericiooptions.IOStreams{}); err != nil || code != 0 {
		t.Fatalf("AttachSession = %d, %v", code, err)
	}
	if !strings.Contains(tb.progress.String(), "Waiting for pod paude-"+testID+": ContainerCreating") {
		t.Errorf("progress:\n%s", tb.progress)
	}
}

// keepConfig is testConfig with keepOnStop set as given.
func keepConfig(keep bool) *config.Config {
	cfg := testConfig()
	cfg.Backend.Workspace.KeepOnStop = keep
	return cfg
}

// statusOf copies another pod's status (and node) into a session pod.
func statusOf(from *corev1.Pod) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = from.Spec.NodeName
		from.Status.DeepCopyInto(&p.Status)
	}
}

// TestAttachResumeRecreatesEnvSecret resumes a session whose env Secret
// an earlier start left with other values: the resume writes the
// current config's and host's values, drops the ones no longer set, and
// removes the Secret when nothing is left to keep in it.
func TestAttachResumeRecreatesEnvSecret(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		host map[string]string
		want map[string]string // nil = no env Secret
	}{
		{"values changed", map[string]string{"FOO": "new"}, map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "host-region"},
			map[string]string{"FOO": "new", "CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "host-region"}},
		{"no values left", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Env = tt.env
			tb := newTestBackend(t, cfg, teamNS, sessionClaim(testID))
			tb.opts.Getenv = func(k string) string { return tt.host[k] }
			old := sessionEnvSecret(testID)
			old.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}
			old.Data = map[string][]byte{"FOO": []byte("old"), "GONE": []byte("old-token")}
			if _, err := ServerSideApply(context.Background(), tb.cs, old); err != nil {
				t.Fatal(err)
			}
			onPodWatch(tb, makeReady)
			if code, err := tb.AttachSession(context.Background(), testID, genericiooptions.IOStreams{Out: &bytes.Buffer{}}); err != nil || code != 0 {
				t.Fatalf("AttachSession = %d, %v\n%s", code, err, tb.progress)
			}
			secret, err := tb.cs.CoreV1().Secrets("team").Get(context.Background(), EnvSecretName(testID), metav1.GetOptions{})
			if tt.want == nil {
				if err == nil {
					t.Errorf("env secret kept with %q", secret.Data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, v := range secret.Data {
				got[k] = string(v)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("env secret = %q, want %q", got, tt.want)
			}
		})
	}
}
