package plugin

import (
	"context"
	"fmt"
	"os"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

// runDryRun prints everything a start would use and changes nothing.
func (o *StartOptions) runDryRun(ctx context.Context) error {
	out := o.root.Streams.Out
	section := func(title string) { _, _ = fmt.Fprintf(out, "\n# ---- %s ----\n", title) }

	section("configuration")
	if o.cfg.Path == "" {
		_, _ = fmt.Fprintf(out, "# no configuration file in %s: defaults only\n", o.workspace)
	} else {
		_, _ = fmt.Fprintf(out, "# from %s\n", o.cfg.Path)
	}
	if err := o.cfg.Describe(out); err != nil {
		return err
	}

	if o.Image == "" {
		recipe, err := image.WorkspaceRecipe(o.cfg)
		if err != nil {
			return err
		}
		if recipe.UserBuild != nil {
			section("user Dockerfile, built first as " + recipe.UserBuild.Tag)
			_, _ = fmt.Fprintf(out, "# %s (context %s)\n", recipe.UserBuild.Dockerfile, recipe.UserBuild.Context)
		}
		if o.backend == backend.OpenShift {
			// The cluster's image is this one plus paude itself, its sync
			// helper, whose content (and so the tag) depends on the
			// nodes' architecture: the steps below name the tag.
			section("Containerfile (a cluster session's image adds paude as its sync helper; the steps name its tag)")
		} else {
			section("Containerfile for " + recipe.Tag)
		}
		_, _ = out.Write(recipe.Containerfile)
	} else {
		section("image")
		_, _ = fmt.Fprintf(out, "# using --image %s; nothing is built\n", o.Image)
	}

	section("squid.conf")
	if o.AllowNetwork {
		_, _ = fmt.Fprintln(out, "# --allow-network: no proxy, the agent has direct network access")
	} else {
		domains, err := backend.AllowedDomains(o.cfg.Network, backend.ProviderFor(o.cfg, os.Getenv))
		if err != nil {
			return err
		}
		conf, err := image.SquidConf(image.SquidOptions{AllowedDomains: domains, Port: image.ProxyPort})
		if err != nil {
			return err
		}
		_, _ = out.Write(conf)
	}

	section(fmt.Sprintf("steps (%s backend)", o.backend))
	b, err := o.root.NewBackend(o.root, o.backend)
	if err != nil {
		_, err = fmt.Fprintf(out, "# the %s backend cannot be used here: %v\n", o.backend, err)
		return err
	}
	d, ok := b.(backend.DryRunner)
	if !ok {
		_, err = fmt.Fprintf(out, "# the %s backend cannot list its steps\n", o.backend)
		return err
	}
	return d.DryRun(ctx, o.sessionSpec(), out)
}
