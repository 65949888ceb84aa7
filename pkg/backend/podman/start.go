package podman

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

// undo is the list of removals that take back what a failed start
// created, run newest first.
type undo []func()

func (u *undo) push(f func()) { *u = append(*u, f) }

func (u undo) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// StartSession implements backend.Backend: it builds the images (before
// creating anything, so a failed build leaves nothing behind), makes sure
// the internal network and the proxy exist, creates the agent container,
// copies the credentials in, starts it and waits for the agent's tmux
// session. A failure removes everything this start created.
func (b *Backend) StartSession(ctx context.Context, opts backend.StartOptions) (_ *backend.Session, err error) {
	progress := b.progress(opts.Progress)
	workspace, err := checkStart(opts)
	if err != nil {
		return nil, err
	}
	cfg := opts.Config
	env := agentEnv(cfg, opts, workspace, b.opts.Getenv)
	if err := env.check(); err != nil {
		return nil, err
	}
	host, err := b.host(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.checkEnvFileReader(ctx, env.Passed); err != nil {
		return nil, err
	}
	lim, note, err := limitsFor(cfg.Backend.Resources, host.CPUs)
	if err != nil {
		return nil, err
	}
	if note != "" {
		fmt.Fprintf(progress, "Note: %s\n", note)
	}
	venvs, err := venvDirs(cfg.Venv, workspace)
	if err != nil {
		return nil, err
	}
	home, err := homeFilesFor(b.opts.HomeDir)
	if err != nil {
		return nil, err
	}
	user, err := b.agentUser(workspace, host.Rootless, progress)
	if err != nil {
		return nil, err
	}
	var squidConf []byte
	if !opts.AllowNetwork {
		if squidConf, err = b.renderProxyConf(cfg); err != nil {
			return nil, err
		}
	}

	agentImage, proxyImage, err := b.images(ctx, opts, progress)
	if err != nil {
		return nil, err
	}

	var created undo
	defer func() {
		if err != nil {
			if len(created) > 0 {
				fmt.Fprintln(progress, "Start failed: removing what it created")
			}
			created.run()
		}
	}()

	now := b.opts.Now()
	id, err := backend.NewSessionID(now, b.opts.Random)
	if err != nil {
		return nil, err
	}
	spec := agentSpec{
		ID: id, Workspace: workspace, Image: agentImage, CreatedAt: now,
		User: user, KeepID: host.Rootless,
		Network: b.opts.ExternalNetwork,
		Env:     env.Own,
		Limits:  lim, PullPolicy: b.opts.PullPolicy, AgentArgs: opts.AgentArgs,
	}
	// The --allow-network banner is the command tree's: it is the same
	// for every backend.
	if !opts.AllowNetwork {
		if err := b.ensureNetwork(ctx, &created); err != nil {
			return nil, err
		}
		ip, proxyCreated, err := b.ensureProxy(ctx, cfg, squidConf, proxyImage, progress)
		if err != nil {
			return nil, err
		}
		if proxyCreated {
			created.push(func() { b.remove(ProxyContainer) })
		}
		spec.Network, spec.ProxyIP = InternalNetwork, ip
	}

	if err := b.ensureVolume(ctx, stateVolume(workspace), roleState, workspace, &created); err != nil {
		return nil, err
	}
	for _, d := range venvs {
		if err := b.ensureVolume(ctx, venvVolume(workspace, d), roleVenv, workspace, &created); err != nil {
			return nil, err
		}
	}
	guards, err := gitGuardMounts(workspace, true)
	if err != nil {
		return nil, err
	}
	spec.Mounts = append(append(workspaceMounts(workspace, venvs), guards...), home.Mounts...)

	name := containerName(id)
	fmt.Fprintf(progress, "Creating session %s\n", id)
	if err := b.createAgent(ctx, spec, env.Passed); err != nil {
		b.remove(name)
		return nil, fmt.Errorf("failed to create the session container: %w", withHint(err))
	}
	created.push(func() { b.remove(name) })
	if home.ClaudeDir != "" {
		if err := b.copyClaudeDir(ctx, home.ClaudeDir, name); err != nil {
			return nil, err
		}
	}
	for _, c := range home.Copies {
		if _, err := b.runner.Run(ctx, copyArgs(c.Source, name, c.Target)); err != nil {
			return nil, fmt.Errorf("failed to copy %s into the session: %w", c.Source, err)
		}
	}
	if _, err := b.runner.Run(ctx, startArgs(name)); err != nil {
		return nil, fmt.Errorf("failed to start the session container: %w", withHint(err))
	}
	if err := b.waitAgent(ctx, name); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "Session %s is running\n", id)
	return &backend.Session{ID: id, Status: backend.StatusRunning, Workspace: workspace,
		CreatedAt: now, BackendType: backend.Podman}, nil
}

// checkStart validates the options before anything runs and returns the
// workspace as an absolute, clean path.
func checkStart(opts backend.StartOptions) (string, error) {
	if opts.Config == nil {
		return "", errors.New("no configuration given: load the workspace's configuration first")
	}
	ws := opts.Workspace
	if ws == "" {
		ws = opts.Config.Workspace
	}
	if !filepath.IsAbs(ws) {
		return "", fmt.Errorf("workspace %q is not an absolute path: pass the project directory's absolute path", ws)
	}
	ws = filepath.Clean(ws)
	fi, err := os.Stat(ws)
	if err != nil {
		return "", fmt.Errorf("failed to use workspace %s: %w", ws, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("workspace %s is not a directory: run paude in the project directory", ws)
	}
	if strings.ContainsAny(ws, ":,") {
		// podman's -v syntax splits on ":" and --mount on ",".
		return "", fmt.Errorf("workspace path %q contains ':' or ',', which podman cannot mount: move or link the project to a path without them", ws)
	}
	return ws, nil
}

// images builds (or finds) the agent image and, unless the network is
// open, the proxy image.
func (b *Backend) images(ctx context.Context, opts backend.StartOptions, progress io.Writer) (agent, proxy string, err error) {
	agent = opts.Image
	if agent == "" {
		recipe, err := image.WorkspaceRecipe(opts.Config)
		if err != nil {
			return "", "", fmt.Errorf("failed to prepare the workspace image: %w", err)
		}
		if err := b.ensureImage(ctx, recipe, opts.Rebuild, progress); err != nil {
			return "", "", err
		}
		agent = imageRef(recipe)
	}
	if opts.AllowNetwork {
		return agent, "", nil
	}
	recipe, err := image.ProxyRecipe(opts.Config)
	if err != nil {
		return "", "", fmt.Errorf("failed to prepare the proxy image: %w", err)
	}
	if err := b.ensureImage(ctx, recipe, opts.Rebuild, progress); err != nil {
		return "", "", err
	}
	return agent, imageRef(recipe), nil
}

// agentUser picks the agent's --user: the configured one, else the
// workspace owner's UID with group 0 (the group the image grants HOME
// to), else DefaultUser when root owns the workspace: the agent never
// runs as root.
func (b *Backend) agentUser(workspace string, rootless bool, progress io.Writer) (string, error) {
	if b.opts.User != "" {
		return b.opts.User, nil
	}
	if rootless {
		// keep-id maps the caller to the same UID inside; files it writes
		// belong to the user on the host.
		return fmt.Sprintf("%d:0", os.Getuid()), nil
	}
	fi, err := os.Stat(workspace)
	if err != nil {
		return "", fmt.Errorf("failed to read the owner of %s: %w", workspace, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		fmt.Fprintf(progress, "Note: root owns %s; the agent runs as %s and can write only where group 0 may\n", workspace, DefaultUser)
		return DefaultUser, nil
	}
	return fmt.Sprintf("%d:0", st.Uid), nil
}

// ensureNetwork creates the internal network when it is missing.
func (b *Backend) ensureNetwork(ctx context.Context, created *undo) error {
	if _, err := b.runner.Run(ctx, networkExistsArgs(InternalNetwork)); err == nil {
		return nil
	} else if code, ok := exitCode(err); !ok || code != 1 {
		return fmt.Errorf("failed to look up network %s: %w", InternalNetwork, err)
	}
	if _, err := b.runner.Run(ctx, networkCreateArgs(InternalNetwork)); err != nil {
		// Another start may have created it in the meantime.
		if _, xerr := b.runner.Run(ctx, networkExistsArgs(InternalNetwork)); xerr == nil {
			return nil
		}
		return fmt.Errorf("failed to create network %s: %w", InternalNetwork, err)
	}
	created.push(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		_, _ = b.runner.Run(ctx, networkRemoveArgs(InternalNetwork))
	})
	return nil
}

// ensureVolume creates a labelled named volume when it is missing.
func (b *Backend) ensureVolume(ctx context.Context, name, role, workspace string, created *undo) error {
	if _, err := b.runner.Run(ctx, volumeExistsArgs(name)); err == nil {
		return nil
	} else if code, ok := exitCode(err); !ok || code != 1 {
		return fmt.Errorf("failed to look up volume %s: %w", name, err)
	}
	if _, err := b.runner.Run(ctx, volumeCreateArgs(name, role, workspace)); err != nil {
		// Another start of the same workspace may have created it.
		if _, xerr := b.runner.Run(ctx, volumeExistsArgs(name)); xerr == nil {
			return nil
		}
		return fmt.Errorf("failed to create volume %s: %w", name, err)
	}
	created.push(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		_, _ = b.runner.Run(ctx, volumeRemoveArgs(name))
	})
	return nil
}

// waitAgent waits until the entrypoint reports the tmux session running.
func (b *Backend) waitAgent(ctx context.Context, name string) error {
	return b.poll(ctx, func(ctx context.Context) (bool, error) {
		out, err := b.runner.Run(ctx, statusArgs(name))
		if err == nil && strings.TrimSpace(string(out)) == "running" {
			return true, nil
		}
		c, ierr := b.inspect(ctx, name)
		if ierr != nil {
			return false, ierr
		}
		if c == nil || !c.State.Running {
			return false, fmt.Errorf("the session container stopped during start: %s", b.logsTail(ctx, name))
		}
		return false, nil
	}, "the agent's tmux session")
}
