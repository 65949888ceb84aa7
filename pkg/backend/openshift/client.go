package openshift

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/paude-dev/paude/pkg/backend"
)

// connectTimeout bounds the first call to the API server, so an
// unreachable address is reported instead of hanging on TCP retries.
const connectTimeout = 20 * time.Second

// Clients are the API clients a Backend uses.
type Clients struct {
	// Kube is the typed clientset.
	Kube kubernetes.Interface
	// Config is the REST config, used by the exec streams.
	Config *rest.Config
	// CoreREST is the core/v1 REST client; exec requests are built from
	// it because it carries the serializer defaults a bare config lacks.
	CoreREST rest.Interface
	// Dynamic reaches the APIs paude has no typed client for: OpenShift's
	// Route, OVN-Kubernetes' EgressFirewall.
	Dynamic dynamic.Interface
}

// ClientFactory builds the API clients. The default reads ConfigFlags;
// tests return fakes.
type ClientFactory interface {
	Clients() (*Clients, error)
}

// FlagsClientFactory builds clients from kubeconfig flags.
type FlagsClientFactory struct {
	Flags genericclioptions.RESTClientGetter
}

// Clients reads the kubeconfig and builds a typed clientset. A missing or
// empty kubeconfig is a *backend.UnavailableError saying how to log in.
func (f *FlagsClientFactory) Clients() (*Clients, error) {
	errNoConfig := &backend.UnavailableError{
		Backend: backend.OpenShift,
		Reason:  "no kubeconfig found",
		Hint:    "log in with `oc login`, or set KUBECONFIG or --kubeconfig",
	}
	if noKubeconfig(f.Flags) {
		// Without this check client-go falls back to localhost:8080.
		return nil, errNoConfig
	}
	cfg, err := f.Flags.ToRESTConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, errNoConfig
		}
		return nil, fmt.Errorf("failed to read the kubeconfig: %w: fix it or pick another with --kubeconfig/--context", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "paude (" + rest.DefaultKubernetesUserAgent() + ")"
	// A start asks some forty questions at once (access reviews, then
	// reads): client-go's default of 5 per second would hold them back
	// for seconds and print a throttling line. Server-side priority and
	// fairness still protects the API server, as for kubectl.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create the API client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create the API client: %w", err)
	}
	return &Clients{Kube: cs, Config: cfg, CoreREST: cs.CoreV1().RESTClient(), Dynamic: dyn}, nil
}

// noKubeconfig reports that no kubeconfig names a cluster, no --server
// flag is given and paude is not running inside a cluster.
func noKubeconfig(getter genericclioptions.RESTClientGetter) bool {
	if flags, ok := getter.(*genericclioptions.ConfigFlags); ok && flags.APIServer != nil && *flags.APIServer != "" {
		return false
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return false
	}
	raw, err := getter.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return clientcmd.IsEmptyConfig(err)
	}
	return len(raw.Clusters) == 0
}

// client returns the API clients, building them on first use.
func (b *Backend) client() (*Clients, error) {
	b.once.Do(func() {
		b.clients, b.errInit = b.opts.Clients.Clients()
	})
	return b.clients, b.errInit
}

// serverHost names the API server in messages.
func (b *Backend) serverHost() string {
	c, err := b.client()
	if err != nil || c.Config == nil || c.Config.Host == "" {
		return "the API server"
	}
	return c.Config.Host
}

// CheckConnection verifies that the API server answers and accepts the
// kubeconfig's credentials, and returns the user name it sees ("" when
// the server cannot tell). Errors are worded for the user.
func (b *Backend) CheckConnection(ctx context.Context) (string, error) {
	c, err := b.client()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	review, err := c.Kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case err == nil:
		return review.Status.UserInfo.Username, nil
	case apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err):
		// Older servers lack SelfSubjectReview and some deny it; /version
		// still proves the server is reachable, and the next call will
		// surface bad credentials.
		if _, verr := c.Kube.Discovery().ServerVersion(); verr != nil {
			return "", b.apiError(verr, "reach", "the API server", "")
		}
		return "", nil
	default:
		return "", b.apiError(err, "reach", "the API server", "")
	}
}

// apiError turns an API or transport error into one that says what to
// do. verb, resource and namespace describe what paude was trying.
func (b *Backend) apiError(err error, verb, resource, namespace string) error {
	if err == nil {
		return nil
	}
	var unavailable *backend.UnavailableError
	if errors.As(err, &unavailable) {
		return err
	}
	where := ""
	if namespace != "" {
		where = fmt.Sprintf(" in namespace %q", namespace)
	}
	switch {
	case apierrors.IsUnauthorized(err):
		return &backend.UnavailableError{
			Backend: backend.OpenShift,
			Reason:  fmt.Sprintf("credentials for %s are missing or expired", b.serverHost()),
			Hint:    "log in with `oc login` or refresh your kubeconfig",
		}
	case apierrors.IsForbidden(err):
		return &ForbiddenError{Verb: verb, Resource: resource, Namespace: namespace, Message: apiMessage(err)}
	case apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("failed to %s %s%s: %s did not answer in time: check your network or VPN and retry: %w", verb, resource, where, b.serverHost(), err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("failed to %s %s%s: interrupted: %w", verb, resource, where, err)
	case isConnectionError(err):
		return &backend.UnavailableError{
			Backend: backend.OpenShift,
			Reason:  fmt.Sprintf("cannot reach %s: %v", b.serverHost(), err),
			Hint:    "check the cluster address in your kubeconfig, your network and VPN, or pick another context with --context",
		}
	}
	return fmt.Errorf("failed to %s %s%s: %w", verb, resource, where, err)
}

// isConnectionError reports transport failures: refused, unresolvable,
// unreachable, reset, TLS trouble. API errors are never connection errors.
func isConnectionError(err error) bool {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return false
	}
	var urlErr *url.Error
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	return errors.As(err, &urlErr) || errors.As(err, &netErr) ||
		errors.As(err, &certErr) || errors.As(err, &unknownAuthority) || errors.As(err, &hostnameErr) ||
		utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err)
}

// apiMessage is the server's own message for an API error.
func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}

// ForbiddenError says which verb on which resource the user lacks.
type ForbiddenError struct {
	User      string
	Verb      string
	Resource  string
	Namespace string
	// Message is the server's message, when there is one.
	Message string
}

func (e *ForbiddenError) Error() string {
	who := "you are"
	if e.User != "" {
		who = fmt.Sprintf("user %q is", e.User)
	}
	if e.Namespace == "" {
		return fmt.Sprintf("%s not allowed to %s %s cluster-wide: ask a cluster administrator", who, e.Verb, e.Resource)
	}
	return fmt.Sprintf("%s not allowed to %s %s in namespace %q: ask an administrator of the namespace for the edit role, or pass -n with a namespace you can use", who, e.Verb, e.Resource, e.Namespace)
}
