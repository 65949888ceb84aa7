package openshift

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Object is a typed Kubernetes object paude writes.
type Object interface {
	metav1.Object
	runtime.Object
}

// applyPatch is the server-side apply body for a typed object: its JSON
// without status and without the zero creationTimestamp, so paude owns
// exactly the fields it sets.
func applyPatch(obj Object) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	return json.Marshal(m)
}

// ServerSideApply creates or updates obj (a Pod, PersistentVolumeClaim,
// Secret, Namespace, Service, Deployment or NetworkPolicy) with
// server-side apply under the field manager "paude". Applying the same
// object twice changes nothing.
func ServerSideApply(ctx context.Context, cs kubernetes.Interface, obj Object) (Object, error) {
	body, err := applyPatch(obj)
	if err != nil {
		return nil, fmt.Errorf("failed to encode %s: %w", obj.GetName(), err)
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager}
	ns, name := obj.GetNamespace(), obj.GetName()
	switch obj.(type) {
	case *corev1.Pod:
		return cs.CoreV1().Pods(ns).Patch(ctx, name, types.ApplyPatchType, body, opts)
	case *corev1.PersistentVolumeClaim:
		return cs.CoreV1().PersistentVolumeClaims(ns).Patch(ctx, name, types.ApplyPatchType, body, opts)
	case *corev1.Secret:
		return cs.CoreV1().Secrets(ns).Patch(ctx, name, types.ApplyPatchType, body, opts)
	case *corev1.Namespace:
		return cs.CoreV1().Namespaces().Patch(ctx, name, types.ApplyPatchType, body, opts)
	case *corev1.Service:
		return cs.CoreV1().Services(ns).Patch(ctx, name, types.ApplyPatchType, body, opts)
	case *appsv1.Deployment:
		return cs.AppsV1().Deployments(ns).Patch(ctx, name, types.ApplyPatchType, body, opts)
	case *netv1.NetworkPolicy:
		return cs.NetworkingV1().NetworkPolicies(ns).Patch(ctx, name, types.ApplyPatchType, body, opts)
	}
	return nil, fmt.Errorf("cannot apply %T: not a kind paude manages", obj)
}

// kindOf names an object's kind for messages ("pod", "secret").
func kindOf(obj Object) string {
	switch obj.(type) {
	case *corev1.Pod:
		return "pod"
	case *corev1.PersistentVolumeClaim:
		return "persistentvolumeclaim"
	case *corev1.Secret:
		return "secret"
	case *corev1.Namespace:
		return "namespace"
	case *corev1.Service:
		return "service"
	case *appsv1.Deployment:
		return "deployment"
	case *netv1.NetworkPolicy:
		return "networkpolicy"
	}
	return fmt.Sprintf("%T", obj)
}
