package podman

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/podmancli"
)

// psEntry is the part of `podman ps --format json` the backend reads.
type psEntry struct {
	Names    []string          `json:"Names"`
	Labels   map[string]string `json:"Labels"`
	State    string            `json:"State"`
	ExitCode int               `json:"ExitCode"`
	Created  int64             `json:"Created"`
}

// list returns the containers with a role, as podman reports them.
// It is the first podman command of most paude commands: a podman that
// is missing or does not work is reported here, as an UnavailableError.
func (b *Backend) list(ctx context.Context, role string) ([]psEntry, error) {
	out, err := b.runner.Run(ctx, listArgs(role))
	if err != nil {
		return nil, unavailable(err)
	}
	var entries []psEntry
	if len(out) > 0 {
		if err := json.Unmarshal(out, &entries); err != nil {
			return nil, fmt.Errorf("failed to read podman ps output: %w", err)
		}
	}
	return entries, nil
}

// ListSessions implements backend.Backend: the agent containers, newest
// first, stopped ones included until they are stopped, in one podman call.
func (b *Backend) ListSessions(ctx context.Context) ([]backend.Session, error) {
	entries, err := b.list(ctx, backend.RoleAgent)
	if err != nil {
		return nil, err
	}
	sessions := make([]backend.Session, 0, len(entries))
	for _, e := range entries {
		id := e.Labels[backend.LabelSessionID]
		if backend.ValidateSessionID(id) != nil {
			continue
		}
		created, perr := time.Parse(time.RFC3339, e.Labels[backend.KeyCreatedAt])
		if perr != nil {
			created = time.Unix(e.Created, 0)
		}
		status, reason := sessionStatus(e.State, e.ExitCode)
		sessions = append(sessions, backend.Session{
			ID: id, Status: status, Reason: reason,
			Workspace: e.Labels[backend.KeyWorkspace], CreatedAt: created,
			BackendType: backend.Podman, Network: e.Labels[backend.LabelNetworkMode],
		})
	}
	sort.SliceStable(sessions, func(i, j int) bool {
		if !sessions[i].CreatedAt.Equal(sessions[j].CreatedAt) {
			return sessions[i].CreatedAt.After(sessions[j].CreatedAt)
		}
		return sessions[i].ID > sessions[j].ID
	})
	return sessions, nil
}

// sessionStatus maps a container state to a session status. Exit code
// 124 is the entrypoint's idle timeout or max lifetime.
func sessionStatus(state string, exitCode int) (backend.Status, string) {
	switch state {
	case "running":
		return backend.StatusRunning, ""
	case "created", "configured", "initialized", "paused", "stopping":
		return backend.StatusPending, state
	case "exited", "stopped":
		switch exitCode {
		case 0:
			return backend.StatusStopped, "agent exited"
		case 124:
			return backend.StatusStopped, "idle timeout or max lifetime reached"
		case 137, 143:
			return backend.StatusStopped, "stopped"
		default:
			return backend.StatusError, fmt.Sprintf("agent exited with code %d", exitCode)
		}
	default:
		return backend.StatusError, state
	}
}

// session finds the agent container of id. An unknown id is a
// *backend.NotFoundError naming the sessions that exist.
func (b *Backend) session(ctx context.Context, id string) (*containerInfo, error) {
	if err := backend.ValidateSessionID(id); err != nil {
		return nil, err
	}
	c, err := b.inspect(ctx, containerName(id))
	if err != nil {
		return nil, err
	}
	if c != nil && c.Config.Labels[backend.LabelApp] == backend.AppName && c.Config.Labels[backend.LabelRole] == backend.RoleAgent {
		return c, nil
	}
	sessions, lerr := b.ListSessions(ctx)
	if lerr != nil {
		return nil, lerr
	}
	nf := &backend.NotFoundError{ID: id, Command: b.opts.Command}
	for _, s := range sessions {
		nf.Known = append(nf.Known, s.ID)
	}
	return nil, nf
}

// StopSession implements backend.Backend: it stops and removes the
// session's container. The proxy, the network and the workspace's volumes
// stay for other and later sessions. A session that is already gone is
// not an error.
func (b *Backend) StopSession(ctx context.Context, id string) error {
	if err := backend.ValidateSessionID(id); err != nil {
		return err
	}
	name := containerName(id)
	c, err := b.inspect(ctx, name)
	if err != nil {
		return err
	}
	if c == nil {
		return nil
	}
	if c.Config.Labels[backend.LabelApp] != backend.AppName {
		return fmt.Errorf("container %s is not a paude session: remove it with podman if you want it gone", name)
	}
	fmt.Fprintf(b.opts.Progress, "Stopping session %s\n", id)
	if _, err := b.runner.Run(ctx, removeArgs(name)); err != nil {
		return fmt.Errorf("failed to stop session %s: %w", id, err)
	}
	return nil
}

// StopAll stops every session, then removes the proxy and the internal
// network (paude stop --all). Volumes stay: they hold each workspace's
// setup state and venvs.
func (b *Backend) StopAll(ctx context.Context) error {
	var names []string
	for _, role := range []string{backend.RoleAgent, backend.RoleProxy} {
		entries, err := b.list(ctx, role)
		if err != nil {
			return err
		}
		for _, e := range entries {
			names = append(names, e.Names...)
		}
	}
	if len(names) > 0 {
		fmt.Fprintf(b.opts.Progress, "Removing %d container(s)\n", len(names))
		if _, err := b.runner.Run(ctx, removeArgs(names...)); err != nil {
			return fmt.Errorf("failed to remove paude containers: %w", err)
		}
	}
	if _, err := b.runner.Run(ctx, networkExistsArgs(InternalNetwork)); err == nil {
		fmt.Fprintf(b.opts.Progress, "Removing network %s\n", InternalNetwork)
		if _, err := b.runner.Run(ctx, networkRemoveArgs(InternalNetwork)); err != nil {
			return fmt.Errorf("failed to remove network %s: %w", InternalNetwork, err)
		}
	} else if code, ok := podmancli.ExitCode(err); !ok || code != 1 {
		return fmt.Errorf("failed to look up network %s: %w", InternalNetwork, err)
	}
	// The proxy is gone, and with it every use of its configurations.
	if err := os.RemoveAll(filepath.Join(b.opts.StateDir, "proxy")); err != nil {
		return fmt.Errorf("failed to remove the proxy configurations: %w", err)
	}
	return nil
}
