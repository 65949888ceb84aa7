package podman

import (
	"context"
	"errors"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/podmancli"
	"github.com/paude-dev/paude/pkg/remote"
)

// The two ways the git boundary runs a command in a session, both
// remote.Executors: podman exec in its running agent container, and a
// one-shot container of its image with its repository volume, for a
// session that is not running (or not yet: seeding happens before the
// agent starts).

var (
	_ remote.Executor = execInContainer{}
	_ remote.Executor = oneShot{}
)

// execInContainer runs commands in a running container, as its user.
type execInContainer struct {
	b    *Backend
	name string
}

// Exec implements remote.Executor with `podman exec -i`.
func (e execInContainer) Exec(ctx context.Context, cmd remote.Cmd) error {
	args := append([]string{"exec", "-i", e.name}, cmd.Argv...)
	return remoteError(cmd.Argv, e.b.runner.Stream(ctx, args, genericiooptions.IOStreams{In: cmd.Stdin, Out: cmd.Stdout, ErrOut: cmd.Stderr}))
}

// oneShotSpec is a throw-away container for one command: the image, user
// and mounts of a session's agent, no network, no capabilities.
type oneShotSpec struct {
	Image      string
	User       string
	KeepID     bool
	PullPolicy string
	Workdir    string
	Mounts     []mount
}

// oneShot runs each command in a new container of spec, removed when it
// ends.
type oneShot struct {
	b    *Backend
	spec oneShotSpec
}

// Exec implements remote.Executor with `podman run --rm -i`.
func (o oneShot) Exec(ctx context.Context, cmd remote.Cmd) error {
	if len(cmd.Argv) == 0 {
		return errors.New("no command to run")
	}
	return remoteError(cmd.Argv, o.b.runner.Stream(ctx, oneShotArgs(o.spec, cmd.Argv), genericiooptions.IOStreams{In: cmd.Stdin, Out: cmd.Stdout, ErrOut: cmd.Stderr}))
}

// oneShotArgs is the `podman run` of a one-shot command.
func oneShotArgs(s oneShotSpec, argv []string) []string {
	args := []string{"run", "--rm", "-i", "--network", "none", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--label", backend.LabelApp + "=" + backend.AppName, "--label", backend.LabelRole + "=" + backend.RoleGit}
	if s.KeepID {
		args = append(args, "--userns", "keep-id")
	}
	if s.User != "" {
		args = append(args, "--user", s.User)
	}
	if s.PullPolicy != "" {
		args = append(args, "--pull", s.PullPolicy)
	}
	for _, m := range s.Mounts {
		args = append(args, "-v", m.flag())
	}
	if s.Workdir != "" {
		args = append(args, "-w", s.Workdir)
	}
	args = append(args, "--entrypoint", argv[0], s.Image)
	return append(args, argv[1:]...)
}

// remoteError turns podman's exit into the executor's: the command's own
// exit code as a *remote.ExitError, anything else as it is.
func remoteError(argv []string, err error) error {
	if err == nil {
		return nil
	}
	var ee *podmancli.ExitError
	if errors.As(err, &ee) {
		return &remote.ExitError{Argv: argv, Code: ee.Code}
	}
	return err
}
