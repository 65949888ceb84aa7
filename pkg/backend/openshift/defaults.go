package openshift

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/paude-dev/paude/pkg/config"
)

// DefaultConfig is the configuration used when the caller has none: the
// same defaults a workspace without a configuration file gets.
func DefaultConfig() *config.Config {
	return config.Defaults("")
}

// ResourcesFor turns the configured requests and limits into Kubernetes
// resource requirements, filling empty values with the defaults. A value
// that does not parse, or a request above its limit, is an error.
func ResourcesFor(r config.Resources) (corev1.ResourceRequirements, error) {
	pick := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	values := []struct {
		key, field, value string
	}{
		{string(corev1.ResourceCPU), "requests.cpu", pick(r.Requests.CPU, config.DefaultRequestCPU)},
		{string(corev1.ResourceMemory), "requests.memory", pick(r.Requests.Memory, config.DefaultRequestMemory)},
		{string(corev1.ResourceCPU), "limits.cpu", pick(r.Limits.CPU, config.DefaultLimitCPU)},
		{string(corev1.ResourceMemory), "limits.memory", pick(r.Limits.Memory, config.DefaultLimitMemory)},
	}
	req := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for i, v := range values {
		q, err := resource.ParseQuantity(v.value)
		if err != nil {
			return req, fmt.Errorf("invalid backend.resources.%s %q: use a Kubernetes quantity such as \"2\" or \"4Gi\"", v.field, v.value)
		}
		if q.Sign() <= 0 {
			return req, fmt.Errorf("invalid backend.resources.%s %q: must be greater than zero", v.field, v.value)
		}
		if i < 2 {
			req.Requests[corev1.ResourceName(v.key)] = q
		} else {
			req.Limits[corev1.ResourceName(v.key)] = q
		}
	}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		rq, lq := req.Requests[name], req.Limits[name]
		if rq.Cmp(lq) > 0 {
			return req, fmt.Errorf("backend.resources.requests.%s (%s) is above limits.%s (%s): lower the request or raise the limit", name, rq.String(), name, lq.String())
		}
	}
	return req, nil
}

// workspaceSize is the PVC size, defaulted and checked.
func workspaceSize(w config.WorkspaceVolume) (resource.Quantity, error) {
	size := w.Size
	if size == "" {
		size = config.DefaultWorkspaceSize
	}
	q, err := resource.ParseQuantity(size)
	if err != nil || q.Sign() <= 0 {
		return resource.Quantity{}, fmt.Errorf("invalid backend.workspace.size %q: use a positive Kubernetes quantity such as \"10Gi\"", size)
	}
	return q, nil
}

// startTimeout bounds the wait for a pod to become Ready.
func startTimeout(cfg *config.Config) time.Duration {
	if cfg.Backend.StartTimeout > 0 {
		return cfg.Backend.StartTimeout
	}
	return config.DefaultStartTimeout
}
