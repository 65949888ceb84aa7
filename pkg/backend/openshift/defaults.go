package openshift

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/paude-dev/paude/pkg/config"
)

// DefaultConfig is the configuration used when the caller has none: the
// same defaults a workspace without a configuration file gets.
func DefaultConfig() *config.Config {
	return config.Defaults("")
}

// ResourcesFor turns the configured requests and limits, which the
// configuration has checked, into Kubernetes resource requirements.
func ResourcesFor(r config.Resources) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: r.Requests.CPU, corev1.ResourceMemory: r.Requests.Memory},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: r.Limits.CPU, corev1.ResourceMemory: r.Limits.Memory},
	}
}

// startTimeout bounds the wait for a pod to become Ready.
func startTimeout(cfg *config.Config) time.Duration {
	if cfg.Backend.StartTimeout > 0 {
		return cfg.Backend.StartTimeout
	}
	return config.DefaultStartTimeout
}
