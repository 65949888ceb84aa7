package podman

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/pkg/podmancli"
)

// DryRun implements backend.DryRunner: it prints the podman commands a
// start would run, in order, from the same plan a start applies. What is
// only known at run time (the session ID, the proxy's address, the
// build directory) appears as <placeholders>, and environment values
// that may come from the host are hidden. It runs nothing, podman
// included: the machine's CPUs and this user stand in for what podman
// would say.
func (b *Backend) DryRun(ctx context.Context, spec backend.SessionSpec, out io.Writer) error {
	plan, err := b.plan(ctx, spec, "<id>", b.opts.Now(), io.Discard, false)
	if err != nil {
		return err
	}
	var steps []dryStep
	for _, note := range plan.Notes {
		steps = append(steps, dryStep{when: note})
	}
	for _, img := range plan.Images {
		steps = append(steps, b.buildSteps(img.Recipe, img.Rebuild)...)
	}
	agent := plan.Agent
	if px := plan.Proxy; px != nil {
		network := sessionNetwork(plan.ID)
		steps = append(steps,
			dryStep{"", networkCreateArgs(plan.ID)},
			dryStep{"unless proxy " + px.Spec.name() + " exists (the squid.conf above is written to " + px.Spec.ConfFile + ")", runProxyArgs(px.Spec, network)},
			dryStep{"when proxy " + px.Spec.name() + " exists: it joins the session's network (and is started when stopped)", networkConnectArgs(network, px.Spec.name())},
		)
		agent.ProxyIP = "<proxy-ip>"
	}
	for _, v := range plan.Volumes {
		steps = append(steps, dryStep{"unless it exists", volumeCreateArgs(v)})
	}
	name := containerName(plan.ID)
	steps = append(steps, dryStep{readOnlyNote(plan), createAgentArgs(agent)})
	if !plan.Home.empty() {
		steps = append(steps, dryStep{homeNote(plan.Home), homeCopyArgs(name)})
	}
	if g := plan.Git; g != nil {
		steps = append(steps, dryStep{"stdin: a git bundle of " + g.Repo.Workspace + "'s branches, tags and HEAD, for the session's own repository in " + g.Volume,
			oneShotArgs(seedSpec(agent, g), []string{"sh", "-c", "<seed script>"})})
	}
	steps = append(steps,
		dryStep{"", startArgs(name)},
		dryStep{"", attachArgs(name, "$TERM")},
	)
	n := 0
	for _, s := range steps {
		if s.when != "" {
			_, _ = fmt.Fprintf(out, "# %s\n", strings.ReplaceAll(s.when, "\n", "\n# "))
		}
		if s.args == nil {
			continue
		}
		n++
		if _, err := fmt.Fprintf(out, "%d. podman %s\n", n, podmancli.ShellWords(podmancli.Redact(s.args))); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(out, "### dry run: nothing was started")
	return err
}

// readOnlyNote names the workspace paths the agent gets read-only.
func readOnlyNote(p *startPlan) string {
	if p.Snapshot == nil || len(p.Snapshot.ReadOnly) == 0 {
		return ""
	}
	return "read-only, as the host's git runs or reads them: " + strings.Join(p.Snapshot.ReadOnly, ", ")
}

// homeNote describes what the home copy carries: the files by path, and
// the env file's names, never its values, which may be secrets.
func homeNote(h homeContent) string {
	lines := []string{"stdin: a tar stream into " + image.HomeDir + " with"}
	for _, f := range h.Files {
		lines = append(lines, "  "+f.Rel+" (from "+f.Source+")")
	}
	if len(h.Env) > 0 {
		lines = append(lines, "  "+envFileRel+" (mode 0600), the environment values kept off the command line:")
		for _, k := range sortedKeys(h.Env) {
			lines = append(lines, "    "+k+"=<hidden>")
		}
	}
	return strings.Join(lines, "\n")
}

// dryStep is one command of a dry run, with the condition it runs under.
type dryStep struct {
	when string
	args []string
}

// buildSteps are the builds of a recipe: skipped when its tag exists.
func (b *Backend) buildSteps(r *image.Recipe, rebuild bool) []dryStep {
	when := "unless " + r.Tag + " exists"
	if rebuild {
		when = "--rebuild: always"
	}
	var steps []dryStep
	for _, s := range b.builder.Steps(r, "<build-dir>", rebuild) {
		w := when
		if s.Tag != r.Tag {
			w += "; the project's own Dockerfile first"
		}
		steps = append(steps, dryStep{w, podmancli.BuildArgs(s)})
	}
	return steps
}
