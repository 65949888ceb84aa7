package podman

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

// DryRun implements backend.DryRunner: it prints the podman commands a
// start would run, in order, from the same plan a start applies. What is
// only known at run time (the session ID, the proxy's address, the
// build directory) appears as <placeholders>, and environment values
// that may come from the host are hidden. It runs nothing, podman
// included: the machine's CPUs and this user stand in for what podman
// would say.
func (b *Backend) DryRun(_ context.Context, spec backend.SessionSpec, out io.Writer) error {
	plan, err := b.plan(spec, "<id>", b.opts.Now(), io.Discard, false)
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
		steps = append(steps,
			dryStep{"unless it exists", networkCreateArgs(InternalNetwork)},
			dryStep{"unless a proxy with this configuration runs (the squid.conf above is written to " + px.Spec.ConfFile + ")", runProxyArgs(px.Spec)},
		)
		agent.ProxyIP = "<proxy-ip>"
	}
	for _, v := range plan.Volumes {
		steps = append(steps, dryStep{"unless it exists", volumeCreateArgs(v)})
	}
	name := containerName(plan.ID)
	steps = append(steps, dryStep{"", createAgentArgs(agent)})
	if !plan.Home.empty() {
		steps = append(steps, dryStep{homeNote(plan.Home), homeCopyArgs(name)})
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
		if _, err := fmt.Fprintf(out, "%d. podman %s\n", n, shellWords(redactArgs(s.args))); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(out, "### dry run: nothing was started")
	return err
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
func (b *Backend) buildSteps(p *image.Recipe, rebuild bool) []dryStep {
	when := "unless " + imageRef(p) + " exists"
	if rebuild {
		when = "--rebuild: always"
	}
	var steps []dryStep
	if ub := p.UserBuild; ub != nil {
		steps = append(steps, dryStep{when + "; the project's own Dockerfile first", buildArgs(buildSpec{
			Tag: ub.Tag, Dockerfile: ub.Dockerfile, Context: ub.Context, Args: ub.Args,
			PullPolicy: b.opts.PullPolicy, NoCache: rebuild})})
	}
	steps = append(steps, dryStep{when, buildArgs(buildSpec{
		Tag: imageRef(p), Dockerfile: "<build-dir>/Containerfile", Context: "<build-dir>",
		PullPolicy: b.opts.PullPolicy, NoCache: rebuild})})
	return steps
}

// redactArgs is argv as paude shows it (dry runs, -v): the value of
// every --build-arg is hidden, since build arguments may carry host
// secrets (${localEnv:...}). Nothing else a start passes on a command
// line is secret: env values travel in the copied env file.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if i > 0 && args[i-1] == "--build-arg" {
			if k, _, ok := strings.Cut(a, "="); ok {
				out[i] = k + "=<hidden>"
			}
		}
	}
	return out
}

// shellWords joins argv for display, quoting what a shell would split.
func shellWords(args []string) string {
	words := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, needsQuote) < 0 {
			words[i] = a
			continue
		}
		words[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(words, " ")
}

// needsQuote reports a rune a shell would treat specially (placeholders'
// angle brackets and $TERM stay readable: the output is for people).
func needsQuote(r rune) bool {
	plain := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("-_./:=,@%+<>$", r)
	return !plain
}
