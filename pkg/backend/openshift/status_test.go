package openshift

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/paude-dev/paude/pkg/backend"
)

func podWith(phase corev1.PodPhase, mutate func(*corev1.Pod)) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "paude-x"}, Spec: corev1.PodSpec{NodeName: "node"}}
	pod.Status.Phase = phase
	if mutate != nil {
		mutate(pod)
	}
	return pod
}

func waiting(reason, msg string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
	}
}

func terminated(code int32, reason string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}}}
	}
}

func condition(t corev1.PodConditionType, s corev1.ConditionStatus, reason, msg string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: s, Reason: reason, Message: msg})
	}
}

func TestSessionStatus(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name       string
		pod        *corev1.Pod
		wantStatus backend.Status
		wantReason string
	}{
		{"running", podWith(corev1.PodRunning, nil), backend.StatusRunning, ""},
		{"pending unscheduled", podWith(corev1.PodPending, func(p *corev1.Pod) { p.Spec.NodeName = "" }), backend.StatusPending, "waiting to be scheduled"},
		{"pending creating", podWith(corev1.PodPending, waiting("ContainerCreating", "")), backend.StatusPending, "ContainerCreating"},
		{"pending volume", podWith(corev1.PodPending, condition(corev1.PodScheduled, corev1.ConditionFalse, "Unschedulable", "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims")), backend.StatusPending, "waiting for the workspace volume"},
		{"image pull", podWith(corev1.PodPending, waiting("ImagePullBackOff", "Back-off pulling image \"nope\"")), backend.StatusError, "ImagePullBackOff: Back-off pulling image \"nope\""},
		{"unschedulable", podWith(corev1.PodPending, condition(corev1.PodScheduled, corev1.ConditionFalse, "Unschedulable", "0/1 nodes are available: 1 Insufficient memory")), backend.StatusError, "Unschedulable: 0/1 nodes are available: 1 Insufficient memory"},
		{"succeeded", podWith(corev1.PodSucceeded, terminated(0, "Completed")), backend.StatusStopped, ReasonExited},
		{"deadline", podWith(corev1.PodFailed, func(p *corev1.Pod) {
			p.Status.Reason = "DeadlineExceeded"
			p.Status.Message = "Pod was active on the node longer than the specified deadline"
		}), backend.StatusStopped, ReasonDeadline},
		{"idle timeout", podWith(corev1.PodFailed, terminated(124, "Error")), backend.StatusStopped, ReasonTimedOut},
		{"agent failed", podWith(corev1.PodFailed, terminated(3, "Error")), backend.StatusError, "exited with code 3"},
		{"log tail not listed", podWith(corev1.PodFailed, func(p *corev1.Pod) {
			terminated(3, "Error")(p)
			p.Status.ContainerStatuses[0].State.Terminated.Message = "screen\nline two\n"
		}), backend.StatusError, "exited with code 3"},
		{"multi-line message", podWith(corev1.PodPending, waiting("ErrImagePull", "rpc error:\n  not found")), backend.StatusError, "ErrImagePull: rpc error:"},
		{"oom", podWith(corev1.PodFailed, terminated(137, "OOMKilled")), backend.StatusError, "OOMKilled (exit code 137)"},
		{"evicted", podWith(corev1.PodFailed, func(p *corev1.Pod) { p.Status.Reason = "Evicted"; p.Status.Message = "low on memory" }), backend.StatusError, "Evicted: low on memory"},
		{"unknown", podWith(corev1.PodUnknown, nil), backend.StatusError, "node unreachable: pod state unknown"},
		{"terminating", podWith(corev1.PodRunning, func(p *corev1.Pod) { p.DeletionTimestamp = &now }), backend.StatusStopped, ReasonTerminating},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, reason := SessionStatus(tt.pod)
			if status != tt.wantStatus || reason != tt.wantReason {
				t.Errorf("SessionStatus = %s, %q; want %s, %q", status, reason, tt.wantStatus, tt.wantReason)
			}
		})
	}
}

func TestPodState(t *testing.T) {
	tests := []struct {
		name       string
		pod        *corev1.Pod
		wantReady  bool
		wantReason string // PodFailedError.Reason, "" = no error
		wantStatus string
	}{
		{"ready", podWith(corev1.PodRunning, condition(corev1.PodReady, corev1.ConditionTrue, "", "")), true, "", "Ready"},
		{"running not ready", podWith(corev1.PodRunning, condition(corev1.PodReady, corev1.ConditionFalse, "ContainersNotReady", "")), false, "", "Running"},
		{"ErrImagePull", podWith(corev1.PodPending, waiting("ErrImagePull", "not found")), false, "ErrImagePull", ""},
		{"ImagePullBackOff", podWith(corev1.PodPending, waiting("ImagePullBackOff", "")), false, "ImagePullBackOff", ""},
		{"CrashLoopBackOff", podWith(corev1.PodRunning, waiting("CrashLoopBackOff", "")), false, "CrashLoopBackOff", ""},
		{"CreateContainerConfigError", podWith(corev1.PodPending, waiting("CreateContainerConfigError", "secret \"x\" not found")), false, "CreateContainerConfigError", ""},
		{"Unschedulable", podWith(corev1.PodPending, condition(corev1.PodScheduled, corev1.ConditionFalse, "Unschedulable", "Insufficient cpu")), false, "Unschedulable", ""},
		{"claim binding", podWith(corev1.PodPending, condition(corev1.PodScheduled, corev1.ConditionFalse, "Unschedulable", "pod has unbound immediate PersistentVolumeClaims")), false, "", "waiting for the workspace volume"},
		{"init failed", podWith(corev1.PodPending, func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "prepare", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "not writable"}}}}
		}), false, "exited with code 1", ""},
		{"ended", podWith(corev1.PodFailed, terminated(2, "Error")), false, "exited with code 2", ""},
		{"pulling", podWith(corev1.PodPending, waiting("ContainerCreating", "")), false, "", "ContainerCreating"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready, status, err := podState(tt.pod)
			if ready != tt.wantReady {
				t.Errorf("ready = %v, want %v", ready, tt.wantReady)
			}
			var failed *PodFailedError
			switch {
			case tt.wantReason == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.wantReason != "" && (!errors.As(err, &failed) || failed.Reason != tt.wantReason):
				t.Errorf("err = %v, want reason %q", err, tt.wantReason)
			case tt.wantReason == "" && status != tt.wantStatus:
				t.Errorf("status = %q, want %q", status, tt.wantStatus)
			}
		})
	}
}
