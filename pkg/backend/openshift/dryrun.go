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
	allowlist, err := b.allowlistOf(cfg, spec.AllowNetwork)
	if err != nil {
		return err
	}
	in := planInput{
		ID: id, Namespace: settings.Namespace, Config: cfg,
		HostWorkspace: spec.Workspace, AgentArgs: spec.AgentArgs, Yolo: spec.Yolo,
		CreatedAt: now, HostEnv: b.hostEnv(), Local: local, Skipped: skipped, NewClaim: true,
	}
	if allowlist != nil || spec.Image == "" {
		// The registry and the cluster are asked what is there; nothing
		// changes.
		c, err := b.client()
		if err != nil {
			return err
		}
		user, err := b.CheckConnection(ctx)
		if err != nil {
			return err
		}
		iplan, images, err := b.sessionImages(ctx, c, settings, user, spec, cfg)
		if err != nil {
			return err
		}
		describeImages(iplan, images, &buf)
		in.Image, in.PullSecret = images.Image, images.PullSecret
		if allowlist != nil {
			fmt.Fprintf(&buf, "# proxy %s (allowlist %s): reused if it runs, else created; the agent reaches it as %s at its Service's address\n",
				ProxyName(allowlist.Hash), strings.Join(allowlist.Domains, ", "), backend.ProxyHost)
			if in.Proxy, in.Network, err = b.planNetwork(ctx, c, settings.Namespace, cfg, allowlist, images); err != nil {
				return err
			}
			in.Network.ProxyIP = "<proxy service address>"
		}
	} else {
		fmt.Fprintf(&buf, "# image %s (--image), open network: nothing is built or pushed\n", spec.Image)
		in.Image = spec.Image
	}
	plan, err := buildPlan(in)
	if err != nil {
		return err
	}
	if in.Network != nil {
		plan.Pod.Spec.HostAliases = proxyHost(in.Network.ProxyIP)
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
