package podman

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

// DryRun implements --dry-run for Podman: it prints the podman commands a
// start would run, in order, built by the same functions a start uses.
// What is only known at run time (the session ID, the proxy's address, the
// build directory) appears as <placeholders>, and environment values that
// may come from the host are hidden. It runs nothing, podman included.
func (b *Backend) DryRun(opts backend.StartOptions, out io.Writer) error {
	workspace, err := checkStart(opts)
	if err != nil {
		return err
	}
	cfg := opts.Config
	env := agentEnv(cfg, opts, workspace, b.opts.Getenv)
	if err := env.check(); err != nil {
		return err
	}
	// podman is not asked: the machine's CPUs and our own UID stand in for
	// what `podman info` would say.
	rootless := os.Geteuid() != 0
	lim, _, err := limitsFor(cfg.Backend.Resources, runtime.NumCPU())
	if err != nil {
		return err
	}
	venvs, err := venvDirs(cfg.Venv, workspace)
	if err != nil {
		return err
	}
	home, err := homeFilesFor(b.opts.HomeDir)
	if err != nil {
		return err
	}
	user, err := b.agentUser(workspace, rootless, io.Discard)
	if err != nil {
		return err
	}

	var steps []dryStep
	agentImage := opts.Image
	if agentImage == "" {
		recipe, err := image.WorkspaceRecipe(cfg)
		if err != nil {
			return err
		}
		steps = append(steps, b.buildSteps(recipe, opts.Rebuild)...)
		agentImage = imageRef(recipe)
	}
	spec := agentSpec{
		ID: "<id>", Workspace: workspace, Image: agentImage, CreatedAt: b.opts.Now(),
		User: user, KeepID: rootless, Network: b.opts.ExternalNetwork,
		Env:    env.Own,
		Limits: lim, PullPolicy: b.opts.PullPolicy, AgentArgs: opts.AgentArgs,
	}
	if !opts.AllowNetwork {
		recipe, err := image.ProxyRecipe(cfg)
		if err != nil {
			return err
		}
		steps = append(steps, b.buildSteps(recipe, opts.Rebuild)...)
		conf, err := b.renderProxyConf(cfg)
		if err != nil {
			return err
		}
		ps := proxySpec{Image: imageRef(recipe), ExternalNetwork: b.opts.ExternalNetwork,
			Hosts: b.opts.ProxyHosts, DNS: b.opts.ProxyDNS, PullPolicy: b.opts.PullPolicy}
		ps.ConfigHash = proxyConfigHash(conf, ps)
		ps.ConfFile = filepath.Join(b.opts.StateDir, "proxy", "squid-"+ps.ConfigHash+".conf")
		steps = append(steps,
			dryStep{"unless it exists", networkCreateArgs(InternalNetwork)},
			dryStep{"unless a proxy with this configuration runs (the squid.conf above is written to " + ps.ConfFile + ")", runProxyArgs(ps)},
		)
		spec.Network, spec.ProxyIP = InternalNetwork, "<proxy-ip>"
	}
	steps = append(steps, dryStep{"unless it exists", volumeCreateArgs(stateVolume(workspace), roleState, workspace)})
	for _, d := range venvs {
		steps = append(steps, dryStep{"unless it exists", volumeCreateArgs(venvVolume(workspace, d), roleVenv, workspace)})
	}
	guards, err := gitGuardMounts(workspace, false)
	if err != nil {
		return err
	}
	spec.Mounts = append(append(workspaceMounts(workspace, venvs), guards...), home.Mounts...)
	name := containerName(spec.ID)
	steps = append(steps, dryStep{envFileNote(&spec, env.Passed), createAgentArgs(spec)})
	if home.ClaudeDir != "" {
		steps = append(steps, dryStep{"stdin: a tar of " + home.ClaudeDir + " without " + strings.Join(backend.ClaudeHistoryDirs, ", "),
			claudeCopyArgs(name)})
	}
	for _, c := range home.Copies {
		steps = append(steps, dryStep{"", copyArgs(c.Source, name, c.Target)})
	}
	steps = append(steps,
		dryStep{"", startArgs(name)},
		dryStep{"", attachArgs(name, "$TERM")},
	)
	for i, s := range steps {
		if s.when != "" {
			_, _ = fmt.Fprintf(out, "# %s\n", strings.ReplaceAll(s.when, "\n", "\n# "))
		}
		if _, err := fmt.Fprintf(out, "%d. podman %s\n", i+1, shellWords(s.args)); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(out, "### dry run: nothing was started")
	return err
}

// dryStep is one command of a dry run, with the condition it runs under.
type dryStep struct {
	when string
	args []string
}

// envFileNote points spec at a placeholder env file and describes it: its
// keys, never its values, which may be secrets. "" when there is no file.
func envFileNote(spec *agentSpec, passed map[string]string) string {
	if len(passed) == 0 {
		return ""
	}
	spec.EnvFile = "<env-file>"
	lines := []string{"<env-file>: a file only you can read, in a directory of its own, deleted as soon as podman create returns; it holds"}
	for _, k := range sortedKeys(passed) {
		lines = append(lines, "  "+k+"=<hidden>")
	}
	return strings.Join(lines, "\n")
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
			Tag: ub.Tag, Dockerfile: ub.Dockerfile, Context: ub.Context, Args: hideHostValues(ub.Args),
			PullPolicy: b.opts.PullPolicy, NoCache: rebuild})})
	}
	steps = append(steps, dryStep{when, buildArgs(buildSpec{
		Tag: imageRef(p), Dockerfile: "<build-dir>/Containerfile", Context: "<build-dir>",
		PullPolicy: b.opts.PullPolicy, NoCache: rebuild})})
	return steps
}

// hideHostValues keeps paude's own variables and hides every other value:
// build arguments may carry host secrets (${localEnv:...}).
func hideHostValues(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		switch {
		case strings.HasPrefix(k, "PAUDE_"), strings.HasSuffix(strings.ToLower(k), "_proxy"), k == "HOME":
			out[k] = v
		default:
			out[k] = "<hidden>"
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
