package openshift

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// OpenShift's integrated registry: where its default route lives, and
// the service name pods pull through.
const (
	RegistryNamespace = "openshift-image-registry"
	RegistryRoute     = "default-route"
	// InternalRegistry is the integrated registry's service address, which
	// every node resolves; images in pods name it, not the route.
	InternalRegistry = "image-registry.openshift-image-registry.svc:5000"
)

// routeResource is OpenShift's Route API.
var routeResource = schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"}

// registryTarget is where a cluster session's images go.
type registryTarget struct {
	// Push is the registry paude pushes to: host[:port][/path].
	Push string
	// Pull is the same registry as the nodes reach it: OpenShift's
	// internal service name, or Push.
	Pull string
	// Source says how the registry was found, for dry runs and messages.
	Source string
	// Insecure turns TLS verification off.
	Insecure bool
}

// host is the registry's host[:port], what podman logs in to.
func (t registryTarget) host() string {
	h, _, _ := strings.Cut(t.Push, "/")
	return h
}

// pullHost is the host[:port] the nodes pull from, the key of a pull
// secret.
func (t registryTarget) pullHost() string {
	h, _, _ := strings.Cut(t.Pull, "/")
	return h
}

// pushRef and pullRef are an image's references in the namespace's
// repository: "<registry>/<namespace>/paude-workspace:<hash>".
func (t registryTarget) pushRef(ns, tag string) string { return t.Push + "/" + ns + "/" + tag }
func (t registryTarget) pullRef(ns, tag string) string { return t.Pull + "/" + ns + "/" + tag }

// errNoRegistry says how to give paude a registry when none was found.
func (b *Backend) errNoRegistry(why string) error {
	return fmt.Errorf("no registry for the session's images: %s: pass --registry (or set backend.registry) with a registry the cluster can pull from (with --image too: the proxy's image goes there)", why)
}

// findRegistry works out where images go, in this order: --registry,
// backend.registry in paude.json, OpenShift's integrated registry (its
// route default-route for pushing, its service for pulling). The answer
// is kept for the rest of the command.
func (b *Backend) findRegistry(ctx context.Context, c *Clients, s Settings) (registryTarget, error) {
	b.regMu.Lock()
	defer b.regMu.Unlock()
	if b.reg != nil {
		return *b.reg, nil
	}
	t := registryTarget{Insecure: b.opts.RegistryInsecure || b.cfg.Backend.RegistryInsecure}
	switch {
	case b.opts.Registry != "":
		t.Push, t.Pull, t.Source = b.opts.Registry, b.opts.Registry, "--registry"
	case s.Registry != "":
		t.Push, t.Pull, t.Source = s.Registry, s.Registry, "backend.registry in the configuration"
	default:
		host, source, err := b.integratedRegistry(ctx, c, s.Namespace)
		if err != nil {
			return t, err
		}
		t.Push, t.Pull, t.Source = host, InternalRegistry, source
	}
	if t.Insecure {
		b.progressf("Warning: TLS verification of registry %s is off (--registry-insecure or backend.registryInsecure): anyone on the way can read and change the images", t.host())
	}
	b.reg = &t
	return t, nil
}

// integratedRegistry finds the public host of OpenShift's registry: from
// its route, which only administrators may read, else, as `oc registry
// info --public` does, from the public repository an image stream
// reports, in the session namespace or in "openshift", whose image
// streams every user may read.
func (b *Backend) integratedRegistry(ctx context.Context, c *Clients, ns string) (host, source string, err error) {
	host, err = b.routeHost(ctx, c)
	if err == nil {
		return host, fmt.Sprintf("OpenShift's integrated registry (route %s/%s)", RegistryNamespace, RegistryRoute), nil
	}
	var forbidden *routeForbiddenError
	if !errors.As(err, &forbidden) {
		return "", "", err
	}
	for _, where := range []string{ns, "openshift"} {
		if host, stream := b.publicRegistryHost(ctx, c, where); host != "" {
			return host, fmt.Sprintf("OpenShift's integrated registry (the public name of image stream %s/%s)", where, stream), nil
		}
	}
	return "", "", b.errNoRegistry(fmt.Sprintf("you may not read the route %s/%s, and no image stream in %s or openshift names a public registry (is the registry's default route enabled?)",
		RegistryNamespace, RegistryRoute, ns))
}

// imageStreamResource is OpenShift's ImageStream API.
var imageStreamResource = schema.GroupVersionResource{Group: "image.openshift.io", Version: "v1", Resource: "imagestreams"}

// publicRegistryHost is the registry host of the first image stream in ns
// with a status.publicDockerImageRepository, and that stream's name; ""
// when there is none or they may not be read.
func (b *Backend) publicRegistryHost(ctx context.Context, c *Clients, ns string) (host, stream string) {
	list, err := c.Dynamic.Resource(imageStreamResource).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 50})
	if err != nil {
		return "", ""
	}
	for _, is := range list.Items {
		repo, _, _ := unstructured.NestedString(is.Object, "status", "publicDockerImageRepository")
		if h, _, ok := strings.Cut(repo, "/"); ok && h != "" {
			return h, is.GetName()
		}
	}
	return "", ""
}

// routeForbiddenError is a user who may not read the registry's route.
type routeForbiddenError struct{ error }

// routeHost reads the host of OpenShift's registry route.
func (b *Backend) routeHost(ctx context.Context, c *Clients) (string, error) {
	if c.Dynamic == nil {
		return "", b.errNoRegistry("this cluster has no OpenShift integrated registry")
	}
	route, err := c.Dynamic.Resource(routeResource).Namespace(RegistryNamespace).Get(ctx, RegistryRoute, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		// Also a cluster without the Route API (plain Kubernetes).
		return "", b.errNoRegistry(fmt.Sprintf("there is no route %s/%s (not OpenShift, or its registry is not exposed)", RegistryNamespace, RegistryRoute))
	case apierrors.IsForbidden(err):
		return "", &routeForbiddenError{err}
	case err != nil:
		return "", b.apiError(err, "get", "route "+RegistryRoute, RegistryNamespace)
	}
	host, _, _ := unstructured.NestedString(route.Object, "spec", "host")
	if host == "" {
		return "", b.errNoRegistry(fmt.Sprintf("the route %s/%s has no host", RegistryNamespace, RegistryRoute))
	}
	return host, nil
}
