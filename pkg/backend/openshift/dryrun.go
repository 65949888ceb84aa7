package openshift

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
)

// DryRun implements backend.DryRunner: it prints the registry it found
// and how, each image's local and remote reference and whether a start
// would build and push it, and every manifest a start would apply, as
// YAML documents. It changes nothing: without --image it asks the API for
// the registry's route and the registry which images it has (read-only
// calls); with --image it calls no API. Secret values are replaced by a
// note of their size; a token never appears.
func (b *Backend) DryRun(ctx context.Context, spec backend.SessionSpec, out io.Writer) error {
	cfg := spec.Config
	if cfg == nil {
		cfg = b.cfg
	}
	if !filepath.IsAbs(spec.Workspace) {
		return fmt.Errorf("workspace %q is not an absolute path", spec.Workspace)
	}
	settings, err := b.resolveSettings(cfg)
	if err != nil {
		return err
	}
	now := b.opts.Clock.Now()
	id, err := backend.NewSessionID(now, b.opts.Random)
	if err != nil {
		return err
	}
	local, skipped, err := ReadCredentials(b.opts.Home)
	if err != nil {
		return err
	}
	var buf strings.Builder
	fmt.Fprintf(&buf, "# paude dry run: nothing was created or changed\n")
	fmt.Fprintf(&buf, "# namespace %s (from %s), session %s\n", settings.Namespace, settings.NamespaceSource, id)
	images, err := b.dryRunImages(ctx, settings, spec, cfg, &buf)
	if err != nil {
		return err
	}
	plan, err := buildPlan(planInput{
		ID: id, Namespace: settings.Namespace, Config: cfg, Image: images.Image,
		HostWorkspace: spec.Workspace, AgentArgs: spec.AgentArgs, Yolo: spec.Yolo,
		CreatedAt: now, HostEnv: b.hostEnv(), Local: local, Skipped: skipped, NewClaim: true,
		PullSecret: images.PullSecret,
	})
	if err != nil {
		return err
	}
	for _, note := range plan.Notes {
		fmt.Fprintf(&buf, "# %s\n", note)
	}
	if missing := missingKinds(local); len(missing) > 0 {
		fmt.Fprintf(&buf, "# a start would mount the credentials saved by %s for %s if the namespace has them\n", b.hint("setup"), kindList(missing))
	}
	for _, obj := range plan.objects() {
		doc, err := manifestYAML(obj)
		if err != nil {
			return err
		}
		buf.WriteString("---\n")
		buf.Write(doc)
	}
	_, err = io.WriteString(out, buf.String())
	return err
}

// manifestYAML renders an object as it would be applied, with Secret
// values redacted.
func manifestYAML(obj Object) ([]byte, error) {
	if secret, ok := obj.(*corev1.Secret); ok {
		redacted := secret.DeepCopy()
		redacted.Data = nil
		redacted.StringData = map[string]string{}
		for k, v := range secret.Data {
			redacted.StringData[k] = fmt.Sprintf("<redacted: %s>", humanBytes(len(v)))
		}
		obj = redacted
	}
	body, err := applyPatch(obj)
	if err != nil {
		return nil, fmt.Errorf("failed to render %s: %w", obj.GetName(), err)
	}
	doc, err := yaml.JSONToYAML(body)
	if err != nil {
		return nil, fmt.Errorf("failed to render %s: %w", obj.GetName(), err)
	}
	return doc, nil
}

func kindList(kinds []CredentialKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// dryRunImages says what a start would do about its images, in comments.
func (b *Backend) dryRunImages(ctx context.Context, s Settings, spec backend.SessionSpec, cfg *config.Config, buf io.Writer) (startImages, error) {
	if spec.Image != "" {
		fmt.Fprintf(buf, "# image %s (--image): nothing is built or pushed\n", spec.Image)
		return startImages{Image: spec.Image}, nil
	}
	c, err := b.client()
	if err != nil {
		return startImages{}, err
	}
	user, err := b.CheckConnection(ctx)
	if err != nil {
		return startImages{}, err
	}
	recipe, err := image.WorkspaceRecipe(cfg)
	if err != nil {
		return startImages{}, fmt.Errorf("failed to prepare the workspace image: %w", err)
	}
	p, err := b.planImages(ctx, c, s, user, []*image.Recipe{recipe}, spec.Rebuild)
	if err != nil {
		return startImages{}, err
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
	out := startImages{Image: p.Images[0].Pull}
	if p.NeedsPullSecret && p.creds.Token != "" {
		fmt.Fprintf(buf, "# the registry refuses anonymous pulls: secret %s holds your token for %s\n", PullSecretName, p.Registry.pullHost())
		if out.PullSecret, err = PullSecretFor(s.Namespace, p.Registry.pullHost(), p.creds.User, p.creds.Token); err != nil {
			return startImages{}, err
		}
	}
	return out, nil
}
