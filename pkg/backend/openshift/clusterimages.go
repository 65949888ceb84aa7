package openshift

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/pkg/podmancli"
)

// clusterImage is one image a cluster session uses: built here from its
// recipe, pushed to the registry, pulled by the node.
type clusterImage struct {
	Recipe *image.Recipe
	// Local is the image in podman's storage; Push and Pull its
	// references in the registry, as paude and the nodes reach it.
	Local, Push, Pull string
	// InRegistry says the registry already has Push, so nothing is
	// built or pushed.
	InRegistry bool
}

// imagePlan is what a start does about its images.
type imagePlan struct {
	Registry registryTarget
	Platform platform
	Images   []clusterImage
	// NeedsPullSecret says the registry refuses anonymous pulls, so the
	// pod names a pull secret with the push credentials.
	NeedsPullSecret bool
	creds           *registryCredentials
}

// planImages works out the images a start needs and asks the registry
// which it has: a HEAD on each manifest, with the push credentials. Tags
// are content hashes, so a tag the registry has is the image this start
// would push. recipes gives the recipes for the platform the images are
// built for (the agent image carries a helper for it). It builds and
// pushes nothing.
func (b *Backend) planImages(ctx context.Context, c *Clients, s Settings, user string, recipesFor func(platform) ([]*image.Recipe, error), rebuild bool) (*imagePlan, error) {
	reg, err := b.findRegistry(ctx, c, s)
	if err != nil {
		return nil, err
	}
	plat, err := b.buildPlatform(ctx, c)
	if err != nil {
		return nil, err
	}
	recipes, err := recipesFor(plat)
	if err != nil {
		return nil, err
	}
	creds, err := b.credentialsFor(c, reg, user)
	if err != nil {
		return nil, err
	}
	p := &imagePlan{Registry: reg, Platform: plat, creds: creds}
	for _, r := range recipes {
		tag := r.Tag + plat.tagSuffix()
		img := clusterImage{Recipe: r, Local: tag, Push: reg.pushRef(s.Namespace, tag), Pull: reg.pullRef(s.Namespace, tag)}
		if !rebuild {
			if img.InRegistry, err = b.registryHas(ctx, creds, img.Push, reg); err != nil {
				return nil, err
			}
		}
		p.Images = append(p.Images, img)
	}
	if len(p.Images) > 0 {
		anon := *creds
		anon.Token, anon.User = "", ""
		open, err := b.anonymousPull(ctx, &anon, p.Images[0].Push, reg)
		if err != nil {
			return nil, err
		}
		p.NeedsPullSecret = !open
	}
	return p, nil
}

// ensureImages builds what the registry lacks (unless podman already has
// it) and pushes it. It creates no cluster object: a failure here leaves
// nothing behind.
func (b *Backend) ensureImages(ctx context.Context, p *imagePlan, rebuild bool, progress io.Writer) error {
	builder := &podmancli.Builder{Runner: b.podman, PullPolicy: b.opts.PullPolicy, Platform: p.Platform.flag(), Now: b.opts.Clock.Now}
	loggedIn := false
	for _, img := range p.Images {
		if img.InRegistry {
			fmt.Fprintf(progress, "Image %s is in the registry already: nothing to build or push\n", img.Push)
			continue
		}
		recipe := *img.Recipe
		recipe.Tag = img.Local
		exists, err := builder.Exists(ctx, img.Local)
		if err != nil {
			return b.podmanError(err)
		}
		if err := builder.Ensure(ctx, &recipe, rebuild, exists, progress); err != nil {
			return b.podmanError(err)
		}
		err = b.push(ctx, p, img, &loggedIn, progress)
		if err != nil {
			return err
		}
	}
	return nil
}

// push pushes one image. podman keeps its login in the registry's auth
// file between starts; a login happens when there is none, and again
// (once) when the registry refuses the one there, as after a new
// `oc login`.
func (b *Backend) push(ctx context.Context, p *imagePlan, img clusterImage, loggedIn *bool, progress io.Writer) error {
	creds := p.creds
	login := func() error {
		if creds.Token == "" {
			return nil // podman's own logins apply
		}
		err := podmancli.Login(ctx, b.podman, p.Registry.host(), creds.User, creds.Token, creds.Access)
		if err != nil {
			return b.registryError(p.Registry, "log in to", err)
		}
		*loggedIn = true
		return nil
	}
	if creds.Token != "" && !fileExists(creds.Access.AuthFile) {
		if err := login(); err != nil {
			return err
		}
	}
	err := podmancli.Push(ctx, b.podman, img.Local, img.Push, creds.Access, progress)
	if err != nil && !*loggedIn && creds.Token != "" && refusedCredentials(podmancli.Stderr(err)) {
		if err := login(); err != nil {
			return err
		}
		err = podmancli.Push(ctx, b.podman, img.Local, img.Push, creds.Access, progress)
	}
	if err != nil {
		return b.registryError(p.Registry, "push "+img.Local+" to", err)
	}
	return nil
}

// registryHas asks the registry whether it has ref, with the push
// credentials (or podman's logins when the kubeconfig has no token).
func (b *Backend) registryHas(ctx context.Context, creds *registryCredentials, ref string, t registryTarget) (bool, error) {
	// Without a token, the logins podman and docker keep for the user.
	opt := remote.WithAuthFromKeychain(authn.DefaultKeychain)
	if creds.Token != "" {
		opt = remote.WithAuth(&authn.Basic{Username: creds.User, Password: creds.Token})
	}
	found, err := b.head(ctx, creds, ref, t, opt)
	if err != nil {
		return false, b.registryError(t, "look up "+ref+" in", err)
	}
	return found, nil
}

// anonymousPull reports whether the registry lets anyone read ref's
// repository (a pull secret is then not needed).
func (b *Backend) anonymousPull(ctx context.Context, creds *registryCredentials, ref string, t registryTarget) (bool, error) {
	_, err := b.head(ctx, creds, ref, t, remote.WithAuth(authn.Anonymous))
	if status := httpStatus(err); status == http.StatusUnauthorized || status == http.StatusForbidden {
		return false, nil
	}
	if err != nil {
		return false, b.registryError(t, "look up "+ref+" in", err)
	}
	return true, nil
}

// head is a HEAD on ref's manifest: true when it is there, false when
// the registry says it is not.
func (b *Backend) head(ctx context.Context, creds *registryCredentials, ref string, t registryTarget, opts ...remote.Option) (bool, error) {
	var nameOpts []name.Option
	if t.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nameOpts...)
	if err != nil {
		return false, fmt.Errorf("%q is not an image reference: check --registry or backend.registry: %w", ref, err)
	}
	opts = append(opts, remote.WithContext(ctx), remote.WithTransport(creds.httpTransport()))
	_, err = remote.Head(r, opts...)
	if status := httpStatus(err); status == http.StatusNotFound {
		return false, nil
	}
	return err == nil, err
}

// statusOf is the HTTP status of a registry's error answer, 0 for none.
func httpStatus(err error) int {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.StatusCode
	}
	return 0
}

// status401 is HTTP's 401 as a word of podman's message: not the digits
// of a port or a digest.
var status401 = regexp.MustCompile(`\b401\b`)

// refusedCredentials recognises podman's words for a refused login.
func refusedCredentials(stderr string) bool {
	s := strings.ToLower(stderr)
	return strings.Contains(s, "unauthorized") || strings.Contains(s, "authentication required") ||
		strings.Contains(s, "denied") || status401.MatchString(s)
}

// registryError words a failure to talk to the registry: refused
// credentials like an expired API login, an untrusted certificate with the
// option that turns the check off, an unreachable registry with where it
// was found. The registry's own words come last; a token never does.
func (b *Backend) registryError(t registryTarget, what string, err error) error {
	where := fmt.Sprintf("registry %s (from %s)", t.host(), t.Source)
	msg := err.Error()
	if stderr := podmancli.Stderr(err); stderr != "" {
		msg = stderr
	}
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var netErr net.Error
	status := httpStatus(err)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || refusedCredentials(podmancli.Stderr(err)):
		return &backend.UnavailableError{
			Backend: backend.OpenShift,
			Reason:  fmt.Sprintf("%s refused your credentials (%s)", where, firstLine(msg)),
			Hint:    "log in again with `oc login` or refresh your kubeconfig: the registry takes the same token as the API",
		}
	case errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) || strings.Contains(msg, "x509:"):
		if fix := b.machineCAFix(t, err); fix != "" {
			return fmt.Errorf("failed to %s %s: podman's machine does not trust its certificate (%s): %s, or pass --registry-insecure (or set backend.registryInsecure) to skip the check", what, where, firstLine(msg), fix)
		}
		return fmt.Errorf("failed to %s %s: its certificate is not trusted (%s): add its CA to the system's trusted certificates, or pass --registry-insecure (or set backend.registryInsecure) to skip the check", what, where, firstLine(msg))
	case errors.As(err, &netErr) || strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") || strings.Contains(msg, "i/o timeout"):
		return fmt.Errorf("failed to %s %s: cannot reach it (%s): check the registry's address, or pass --registry with one this machine reaches", what, where, firstLine(msg))
	}
	return fmt.Errorf("failed to %s %s: %s", what, where, firstLine(msg))
}

// machineCAFix is how to make a podman machine trust the kubeconfig's
// cluster CA, "" when that is not what failed: on macOS podman pushes
// from its Linux machine, which does not get the --cert-dir paude passes
// (podman's client reads it for the login only), and reads a registry's
// CA from /etc/containers/certs.d/<host>/ in the machine.
func (b *Backend) machineCAFix(t registryTarget, err error) string {
	if b.opts.HostOS == "linux" || podmancli.Stderr(err) == "" {
		return ""
	}
	ca := filepath.Join(registryDir(b.opts.CacheDir, t.host()), "certs", "cluster-ca.crt")
	if _, statErr := os.Stat(ca); statErr != nil {
		return ""
	}
	dir := "/etc/containers/certs.d/" + t.host()
	return fmt.Sprintf("give the machine the cluster's CA with 'podman machine ssh \"sudo mkdir -p %s && sudo tee %s/ca.crt >/dev/null\" < %s'", dir, dir, ca)
}

// podmanError words a podman failure during a cluster start: a missing
// podman says that --image avoids the need for it.
func (b *Backend) podmanError(err error) error {
	if errors.Is(err, podmancli.ErrPodmanNotFound) {
		return &backend.UnavailableError{Backend: backend.OpenShift,
			Reason: "building the session's images needs Podman, which is not installed (no 'podman' on PATH)",
			Hint:   "install Podman 4 or later (--image spares the build of the agent's image, not of the proxy's)"}
	}
	return err
}
