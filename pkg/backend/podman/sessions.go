package podman

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/podmancli"
)

// psEntry is the part of `podman ps --format json` the backend reads.
type psEntry struct {
	Names []string `json:"Names"`
	// Networks are the networks the container is on.
	Networks []string          `json:"Networks"`
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

// StopSession implements backend.Backend: it fetches the session's
// commits and reports the host-run files that changed (review), then
// removes the session's container, network, repository volume and host
// files. Its proxy stays for other sessions and later starts ('cleanup'
// removes proxies no session uses), and so do the workspace's volumes. A
// repository whose commits could not be fetched is kept, and the message
// says how to get at it. A session that is already gone is not an error.
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
	fetchErr := b.review(ctx, id, c, b.opts.Progress)
	fmt.Fprintf(b.opts.Progress, "Stopping session %s\n", id)
	if _, err := b.runner.Run(ctx, removeArgs(name)); err != nil {
		return fmt.Errorf("failed to stop session %s: %w", id, err)
	}
	hasGit := c.Config.Labels[labelGitDir] != ""
	return b.removeSessionObjects(ctx, id, c.Config.Labels[backend.LabelProxyConfig], hasGit && fetchErr == nil, hasGit && fetchErr != nil)
}

// removeSessionObjects removes what a session has besides its container:
// its network (once its proxy is off it), its repository volume (when
// removeGit: its commits are fetched; keepGit says why it stays) and its
// host files.
func (b *Backend) removeSessionObjects(ctx context.Context, id, proxyHash string, removeGit, keepGit bool) error {
	network := sessionNetwork(id)
	if proxyHash != "" {
		// Only the proxy's side can refuse; a proxy already gone or
		// already off the network is what stop wants.
		_, _ = b.runner.Run(ctx, networkDisconnectArgs(network, proxyName(proxyHash)))
		if _, err := b.runner.Run(ctx, networkRemoveArgs(network)); err != nil && !notFound(err) {
			return fmt.Errorf("failed to remove network %s: %w", network, err)
		}
	}
	if removeGit {
		if _, err := b.runner.Run(ctx, volumeRemoveArgs(gitVolume(id))); err != nil && !notFound(err) {
			return fmt.Errorf("failed to remove volume %s: %w", gitVolume(id), err)
		}
	}
	if keepGit {
		fmt.Fprintf(b.opts.Progress, "Keeping volume %s: it holds the session's repository, whose commits could not be fetched; remove it with 'podman volume rm %s' once you no longer need them\n",
			gitVolume(id), gitVolume(id))
	}
	if err := os.RemoveAll(b.sessionDir(id)); err != nil {
		return fmt.Errorf("failed to remove %s: %w", b.sessionDir(id), err)
	}
	return nil
}

// notFound reports podman saying an object does not exist.
func notFound(err error) bool {
	s := strings.ToLower(podmancli.Stderr(err))
	return strings.Contains(s, "no such") || strings.Contains(s, "not found")
}

// StopAll stops every session (fetching each one's commits first), then
// removes every proxy, the sessions' networks and the proxy
// configurations (paude stop --all). The workspaces' volumes stay: they
// hold each workspace's setup state and venvs.
func (b *Backend) StopAll(ctx context.Context) error {
	agents, err := b.list(ctx, backend.RoleAgent)
	if err != nil {
		return err
	}
	for _, e := range agents {
		id := e.Labels[backend.LabelSessionID]
		if backend.ValidateSessionID(id) != nil {
			continue
		}
		if err := b.StopSession(ctx, id); err != nil {
			return err
		}
	}
	proxies, err := b.list(ctx, backend.RoleProxy)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range proxies {
		names = append(names, e.Names...)
	}
	if len(names) > 0 {
		fmt.Fprintf(b.opts.Progress, "Removing %d proxy container(s)\n", len(names))
		if _, err := b.runner.Run(ctx, removeArgs(names...)); err != nil {
			return fmt.Errorf("failed to remove the proxies: %w", err)
		}
	}
	nets, err := b.networks(ctx)
	if err != nil {
		return err
	}
	if len(nets) > 0 {
		all := slices.Sorted(maps.Keys(nets))
		fmt.Fprintf(b.opts.Progress, "Removing network(s) %s\n", strings.Join(all, ", "))
		if _, err := b.runner.Run(ctx, networkRemoveArgs(all...)); err != nil {
			return fmt.Errorf("failed to remove paude's networks: %w", err)
		}
	}
	// The proxies are gone, and with them every use of their configurations.
	if err := os.RemoveAll(filepath.Join(b.opts.StateDir, "proxy")); err != nil {
		return fmt.Errorf("failed to remove the proxy configurations: %w", err)
	}
	return nil
}

// networks lists paude's networks, by name, with the session each
// belongs to ("" for the shared network of older paude versions).
func (b *Backend) networks(ctx context.Context) (map[string]string, error) {
	out, err := b.runner.Run(ctx, listNetworksArgs())
	if err != nil {
		return nil, fmt.Errorf("failed to list paude's networks: %w", err)
	}
	var list []struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	}
	if len(out) > 0 {
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, fmt.Errorf("failed to read podman network ls output: %w", err)
		}
	}
	nets := map[string]string{}
	for _, n := range list {
		nets[n.Name] = n.Labels[backend.LabelSessionID]
	}
	return nets, nil
}
