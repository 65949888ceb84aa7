package podman

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/paude-dev/paude/pkg/backend"

	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/pkg/podmancli"
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

// apply carries out a start plan. Images come first, so that a failed
// build leaves nothing behind (the session's network, made while podman
// is asked about them, is removed again); then the proxy on that network
// and the volumes, then the agent container, whose home is filled, and
// only then is it started. The session's repository is seeded from the
// moment its volume exists until then. Whatever this apply created is
// removed again when a later step fails, also when ctx was cancelled
// (C-c).
func (b *Backend) apply(ctx context.Context, p *startPlan, progress io.Writer) (err error) {
	for _, note := range p.Notes {
		fmt.Fprintln(progress, note)
	}
	var created undo
	defer func() {
		if err != nil {
			created.run()
		}
	}()
	// The session's host files (a .git file written while planning).
	dir := b.sessionDir(p.ID)
	created.push(func() { _ = os.RemoveAll(dir) })
	found, err := b.look(ctx, p, &created)
	if err != nil {
		return err
	}
	for i, step := range p.Images {
		if err := b.builder.Ensure(ctx, step.Recipe, step.Rebuild, found.images[i], progress); err != nil {
			return err
		}
	}
	defer func() {
		if err != nil && len(created) > 0 {
			fmt.Fprintln(progress, "Start failed: removing what it created")
		}
	}()
	if err := b.saveSnapshot(p.ID, p.Snapshot); err != nil {
		return err
	}
	agent := p.Agent
	seed := b.seeding(ctx, agent, p.Git)
	// A failed start stops the seeding before it removes the volume.
	defer func() {
		if err != nil {
			seed.stop()
		}
	}()
	if err := b.prepare(ctx, p, found, &agent, seed.start, progress, &created); err != nil {
		return err
	}

	name := containerName(p.ID)
	fmt.Fprintf(progress, "Creating session %s\n", p.ID)
	if _, err := b.runner.Run(ctx, createAgentArgs(agent)); err != nil {
		// create may have left a container behind before it failed.
		b.remove(name)
		return fmt.Errorf("failed to create the session container: %w", withHint(err))
	}
	created.push(func() { b.remove(name) })
	if !p.Home.empty() {
		if err := b.copyHome(ctx, p.Home, name); err != nil {
			return err
		}
	}
	if err := seed.wait(); err != nil {
		return err
	}
	if _, err := b.runner.Run(ctx, startArgs(name)); err != nil {
		return fmt.Errorf("failed to start the session container: %w", withHint(err))
	}
	if err := b.waitAgent(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(progress, "Session %s is running\n", p.ID)
	return nil
}

// seedRun is the seeding of a session's repository, in the background
// from the moment its volume exists (start) until the agent is about to
// start (wait). Without a git boundary it does nothing.
type seedRun struct {
	run     func(context.Context) error
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan error
	started bool
}

// seeding prepares the seeding of g's repository for the agent a.
func (b *Backend) seeding(ctx context.Context, a agentSpec, g *gitBoundary) *seedRun {
	s := &seedRun{done: make(chan error, 1)}
	if g != nil {
		s.ctx, s.cancel = context.WithCancel(ctx)
		s.run = func(ctx context.Context) error { return b.seed(ctx, a, g) }
	}
	return s
}

// start begins the seeding; prepare calls it once the volume exists.
func (s *seedRun) start() {
	if s.run == nil || s.started {
		return
	}
	s.started = true
	go func() { s.done <- s.run(s.ctx) }()
}

// wait returns the seeding's result.
func (s *seedRun) wait() error {
	if !s.started {
		return nil
	}
	s.started = false
	err := <-s.done
	s.cancel()
	return err
}

// stop ends a seeding still running and waits for it.
func (s *seedRun) stop() {
	if s.started {
		s.cancel()
		_ = s.wait()
	}
}

// prepare makes what the agent container needs besides its image: the
// proxy on the session's network (whose address goes into agent), and the
// volumes, all at the same time, while gitReady starts the seeding of the
// session's repository. Each step's undo is pushed in the plan's order,
// whichever finished first.
func (b *Backend) prepare(ctx context.Context, p *startPlan, f found, agent *agentSpec, gitReady func(), progress io.Writer, created *undo) error {
	undos := make([]undo, len(p.Volumes)+1)
	defer func() {
		for _, u := range undos {
			created.push(u.run)
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	if p.Proxy != nil {
		g.Go(func() error {
			ip, err := b.ensureProxy(gctx, p.Proxy, sessionNetwork(p.ID), f.proxy, progress, &undos[0])
			agent.ProxyIP = ip
			return err
		})
	}
	// The repository's volume was made with the network (look): its
	// seeding needs only the image, which exists now.
	gitReady()
	for i, v := range p.Volumes {
		if v.Role == backend.RoleGit {
			continue
		}
		g.Go(func() error { return b.ensureVolume(gctx, v, &undos[i+1]) })
	}
	return g.Wait()
}

// found is what a start finds before it changes anything.
type found struct {
	// images tells, for each of the plan's images, whether its tag exists.
	images []bool
	// proxy is the proxy of the plan's configuration as it is, nil when
	// there is none.
	proxy *containerInfo
}

// look asks podman, all at once, the read-only questions a start
// depends on: which images exist, and how the proxy is. Each answer takes
// a podman process of its own, so asking them together keeps a warm start
// close to a bare podman run. The session's network and repository
// volume, which depend on nothing, are made at the same time; their
// removal goes to created.
func (b *Backend) look(ctx context.Context, p *startPlan, created *undo) (found, error) {
	f := found{images: make([]bool, len(p.Images))}
	g, gctx := errgroup.WithContext(ctx)
	for i, step := range p.Images {
		if step.Rebuild {
			continue
		}
		g.Go(func() (err error) {
			f.images[i], err = b.builder.Exists(gctx, step.Recipe.Tag)
			return err
		})
	}
	if p.Proxy != nil {
		g.Go(func() (err error) {
			f.proxy, err = b.inspect(gctx, p.Proxy.Spec.name())
			return err
		})
		var network undo
		defer func() { created.push(network.run) }()
		g.Go(func() error { return b.ensureNetwork(gctx, p.ID, &network) })
	}
	for _, v := range p.Volumes {
		if v.Role == backend.RoleGit {
			var volume undo
			defer func() { created.push(volume.run) }()
			g.Go(func() error { return b.ensureVolume(gctx, v, &volume) })
		}
	}
	return f, g.Wait()
}

// ensureVolume creates a labelled named volume unless it exists. podman
// refuses to create a name that exists, which costs one call either way.
func (b *Backend) ensureVolume(ctx context.Context, v volumeSpec, created *undo) error {
	_, err := b.runner.Run(ctx, volumeCreateArgs(v))
	if err != nil {
		if alreadyExists(err) {
			return nil
		}
		return fmt.Errorf("failed to create volume %s: %w", v.Name, err)
	}
	created.push(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		_, _ = b.runner.Run(ctx, volumeRemoveArgs(v.Name))
	})
	return nil
}

// alreadyExists reports podman refusing to create an object whose name
// is taken ("volume with name x already exists", "network name x
// already used").
func alreadyExists(err error) bool {
	code, ok := podmancli.ExitCode(err)
	if !ok || code == 0 {
		return false
	}
	s := strings.ToLower(podmancli.Stderr(err))
	return strings.Contains(s, "already exists") || strings.Contains(s, "already used")
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
	}, "the agent's tmux session ("+image.TmuxSession+")")
}
