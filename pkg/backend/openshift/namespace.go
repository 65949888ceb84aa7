package openshift

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/paude-dev/paude/pkg/config"
)

// Settings is the resolved cluster target (task 2.1's OpenShiftConfig).
type Settings struct {
	// Context is the kubeconfig context in use ("" = none).
	Context string
	// Namespace is where sessions live.
	Namespace string
	// NamespaceSource says where Namespace came from, for messages:
	// "flag", "paude.json", "kubeconfig context" or "default".
	NamespaceSource string
	// Registry is the configured image registry ("" = detect later).
	Registry string
}

// ResolveSettings works out the context and namespace without calling
// the API. Namespace precedence: -n/--namespace >
// backend.namespace in paude.json > the kubeconfig context's namespace >
// "paude". The result is validated as a DNS-1123 label.
func (b *Backend) ResolveSettings() (Settings, error) {
	return b.resolveSettings(b.cfg)
}

// resolveSettings is ResolveSettings for a given project configuration.
func (b *Backend) resolveSettings(cfg *config.Config) (Settings, error) {
	s := Settings{Registry: cfg.Backend.Registry}
	ns, source, err := b.resolveNamespace(&s, cfg)
	if err != nil {
		return s, err
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return s, fmt.Errorf("invalid namespace %q (from %s): %s", ns, source, strings.Join(errs, "; "))
	}
	s.Namespace, s.NamespaceSource = ns, source
	return s, nil
}

func (b *Backend) resolveNamespace(s *Settings, cfg *config.Config) (string, string, error) {
	var contextNS string
	if b.opts.ConfigFlags != nil {
		loader := b.opts.ConfigFlags.ToRawKubeConfigLoader()
		ns, overridden, err := loader.Namespace()
		if err != nil && !clientcmd.IsEmptyConfig(err) {
			return "", "", fmt.Errorf("failed to read the namespace from the kubeconfig: %w", err)
		}
		if err == nil && overridden {
			return ns, "flag", nil
		}
		// Namespace() falls back to "default" when the context has none;
		// only a namespace the context really sets counts here.
		if raw, rerr := loader.RawConfig(); rerr == nil {
			name := raw.CurrentContext
			if flags, ok := b.opts.ConfigFlags.(*genericclioptions.ConfigFlags); ok && flags.Context != nil && *flags.Context != "" {
				name = *flags.Context
			}
			s.Context = name
			if kc, ok := raw.Contexts[name]; ok {
				contextNS = kc.Namespace
			}
		}
	}
	if cfg.Backend.Namespace != "" {
		return cfg.Backend.Namespace, "paude.json", nil
	}
	if contextNS != "" {
		return contextNS, "kubeconfig context", nil
	}
	return DefaultNamespace, "default", nil
}

// errNamespaceMissing is the message for a namespace that does not exist.
func (b *Backend) errNamespaceMissing(ns, source string) error {
	return fmt.Errorf("namespace %q (from %s) does not exist: run %s to create it or pass -n with an existing namespace", ns, source, b.hint("setup"))
}

// checkNamespace confirms the namespace exists. A user who may not read
// namespace objects (common on OpenShift) passes: the first real call in
// it will tell.
func (b *Backend) checkNamespace(ctx context.Context, s Settings) error {
	c, err := b.client()
	if err != nil {
		return err
	}
	_, err = c.Kube.CoreV1().Namespaces().Get(ctx, s.Namespace, metav1.GetOptions{})
	switch {
	case err == nil, apierrors.IsForbidden(err):
		return nil
	case apierrors.IsNotFound(err):
		return b.errNamespaceMissing(s.Namespace, s.NamespaceSource)
	default:
		return b.apiError(err, "get", "namespace "+s.Namespace, "")
	}
}
