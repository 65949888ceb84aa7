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
	"time"

	"github.com/paude-dev/paude/pkg/hostpath"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/hostrun"
	"github.com/paude-dev/paude/pkg/image"
)

var (
	_ backend.Backend    = (*Backend)(nil)
	_ backend.Cleaner    = (*Backend)(nil)
	_ backend.DryRunner  = (*Backend)(nil)
	_ backend.AllStopper = (*Backend)(nil)
)

// StartSession implements backend.Backend: it plans the start (planStart)
// and applies the plan: builds the images (before creating anything, so a
// failed build leaves nothing behind), makes sure the proxy runs with
// this start's allowlist, creates the volumes and the agent container,
// copies the credentials and settings in, starts it and waits for the
// agent's tmux session. A failure removes everything this start created.
func (b *Backend) StartSession(ctx context.Context, spec backend.SessionSpec) (*backend.Session, error) {
	progress := b.progress(spec.Progress)
	now := b.opts.Now()
	id, err := backend.NewSessionID(now, b.opts.Random)
	if err != nil {
		return nil, err
	}
	plan, err := b.plan(ctx, spec, id, now, progress, true)
	if err != nil {
		return nil, err
	}
	if err := b.apply(ctx, plan, progress); err != nil {
		return nil, err
	}
	return &backend.Session{ID: id, Status: backend.StatusRunning, Workspace: plan.Workspace,
		CreatedAt: now, BackendType: backend.Podman, Network: plan.Agent.networkMode()}, nil
}

// plan gathers the inputs of a start and plans it.
func (b *Backend) plan(ctx context.Context, spec backend.SessionSpec, id string, now time.Time, progress io.Writer, create bool) (*startPlan, error) {
	in, err := b.gather(ctx, spec, id, progress, create)
	if err != nil {
		return nil, err
	}
	in.CreatedAt, in.DryRun = now, !create
	return planStart(in)
}

// gather reads what a plan is made of from this machine: the workspace,
// its repository and host-run files, the user's home, the host's
// environment. It runs no podman command. create writes the session's
// host files the plan mounts (a start does, a dry run does not).
func (b *Backend) gather(ctx context.Context, spec backend.SessionSpec, id string, progress io.Writer, create bool) (planInput, error) {
	workspace, err := checkWorkspace(spec)
	if err != nil {
		return planInput{}, err
	}
	if err := backend.CheckWorkspacePath(workspace, b.opts.HomeDir); err != nil {
		return planInput{}, err
	}
	// A dry run runs no podman command, so it cannot ask the machine.
	if create {
		if err := b.checkMachineShares(b.hostPathUses(spec, workspace)); err != nil {
			return planInput{}, err
		}
	}
	host := b.hostInfo()
	in := planInput{ID: id, Spec: spec, Workspace: workspace, HostCPUs: host.CPUs, Rootless: host.Rootless,
		Getenv: b.opts.Getenv, Opts: b.opts}
	if in.Venvs, err = venvDirs(spec.Config.Venv, workspace); err != nil {
		return planInput{}, err
	}
	if in.Git, err = b.openGitBoundary(ctx, id, workspace, create); err != nil {
		return planInput{}, err
	}
	if in.Snapshot, err = hostrun.Take(ctx, workspace); err != nil {
		return planInput{}, fmt.Errorf("failed to look at the workspace's files that make this machine run code: %w", err)
	}
	var skipped []string
	if in.HomeFiles, skipped, err = backend.HomeFiles(b.opts.HomeDir); err != nil {
		return planInput{}, err
	}
	_ = skipped // a missing credential is normal on a laptop: no line for it
	if in.User, err = b.agentUser(workspace, host.Rootless, progress); err != nil {
		return planInput{}, err
	}
	return in, nil
}

// checkWorkspace validates the session spec before anything runs and
// returns the workspace by its real name (hostpath.Real): the path
// podman's host, git and later commands know it by.
func checkWorkspace(spec backend.SessionSpec) (string, error) {
	if spec.Config == nil {
		return "", errors.New("no configuration given: load the workspace's configuration first")
	}
	ws := spec.Workspace
	if ws == "" {
		ws = spec.Config.Workspace
	}
	if !filepath.IsAbs(ws) {
		return "", fmt.Errorf("workspace %q is not an absolute path: pass the project directory's absolute path", ws)
	}
	ws = hostpath.Real(ws)
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

// agentUser picks the agent's --user: the configured one, else the
// workspace owner's UID with group 0 (the group the image grants HOME
// to), else the image's default user when root owns the workspace: the
// agent never runs as root.
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
		fmt.Fprintf(progress, "Note: root owns %s; the agent runs as %s and can write only where group 0 may\n", workspace, image.DefaultUser)
		return image.DefaultUser, nil
	}
	return fmt.Sprintf("%d:0", st.Uid), nil
}
