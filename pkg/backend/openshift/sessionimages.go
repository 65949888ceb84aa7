package openshift

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
)

// startImages is what a start's pods run: the image references the node
// pulls, and the pull secret it pulls them with, if the registry needs
// one.
type startImages struct {
	// Image is the agent's image; ProxyImage the proxy's ("" with open
	// network).
	Image, ProxyImage string
	PullSecret        *corev1.Secret
	// PullSecretExisted says the namespace had the pull secret before
	// this start: a failed start leaves it (other sessions use it).
	PullSecretExisted bool
}

// sessionImages works out a start's images: the workspace image from the
// configuration (with paude itself as the sync helper, for the platform
// the images are built for) unless --image names one, and the proxy
// image unless the network is open. The plan says which the registry
// has; nil means nothing needs the registry. It builds and pushes
// nothing.
func (b *Backend) sessionImages(ctx context.Context, c *Clients, s Settings, user string, spec backend.SessionSpec, cfg *config.Config) (*imagePlan, startImages, error) {
	out := startImages{Image: spec.Image}
	if spec.Image != "" && spec.AllowNetwork {
		return nil, out, nil
	}
	recipes := func(plat platform) ([]*image.Recipe, error) {
		var recipes []*image.Recipe
		if spec.Image == "" {
			helper, err := b.opts.Helpers(plat.Arch)
			if err != nil {
				return nil, err
			}
			r, err := image.ClusterWorkspaceRecipe(cfg, helper.Content)
			if err != nil {
				return nil, fmt.Errorf("failed to prepare the workspace image: %w", err)
			}
			recipes = append(recipes, r)
		}
		if !spec.AllowNetwork {
			r, err := image.ProxyRecipe(cfg)
			if err != nil {
				return nil, fmt.Errorf("failed to prepare the proxy image: %w", err)
			}
			recipes = append(recipes, r)
		}
		return recipes, nil
	}
	p, err := b.planImages(ctx, c, s, user, recipes, spec.Rebuild)
	if err != nil {
		return nil, out, err
	}
	for _, img := range p.Images {
		if img.Recipe.Name == image.ProxyName {
			out.ProxyImage = img.Pull
		} else {
			out.Image = img.Pull
		}
	}
	if p.NeedsPullSecret && p.creds.Token != "" {
		if out.PullSecret, err = PullSecretFor(s.Namespace, p.Registry.pullHost(), p.creds.User, p.creds.Token); err != nil {
			return nil, out, err
		}
		if out.PullSecretExisted, err = b.pullSecretExists(ctx, c, s.Namespace); err != nil {
			return nil, out, err
		}
	}
	return p, out, nil
}

// describeImages writes, as comments for a dry run, the registry and
// what a start would do about each image.
func describeImages(p *imagePlan, out startImages, buf io.Writer) {
	if p == nil {
		fmt.Fprintf(buf, "# image %s (--image), open network: nothing is built or pushed\n", out.Image)
		return
	}
	fmt.Fprintf(buf, "# registry %s, found from %s; pods pull from %s\n", p.Registry.host(), p.Registry.Source, p.Registry.pullHost())
	if p.Registry.Insecure {
		fmt.Fprintf(buf, "# TLS verification of the registry is off (--registry-insecure)\n")
	}
	fmt.Fprintf(buf, "# images are built for linux/%s (from %s)\n", p.Platform.Arch, p.Platform.Source)
	for _, img := range p.Images {
		what := "would be built unless podman has it, then pushed"
		if img.InRegistry {
			what = "is in the registry already: no build, no push"
		}
		fmt.Fprintf(buf, "# image %s -> %s: %s; pods pull %s\n", img.Local, img.Push, what, img.Pull)
	}
	if out.PullSecret != nil {
		fmt.Fprintf(buf, "# the registry refuses anonymous pulls: secret %s holds your token for %s\n", PullSecretName, p.Registry.pullHost())
	}
}
