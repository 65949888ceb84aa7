package podman

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/podmancli"
)

// containerInfo is the part of `podman container inspect` the backend reads.
type containerInfo struct {
	Name string `json:"Name"`
	// ImageName is the image as the container was created from it.
	ImageName string `json:"ImageName"`
	State     struct {
		Status   string `json:"Status"`
		Running  bool   `json:"Running"`
		ExitCode int    `json:"ExitCode"`
	} `json:"State"`
	Config struct {
		Labels map[string]string `json:"Labels"`
		User   string            `json:"User"`
	} `json:"Config"`
	NetworkSettings struct {
		Networks map[string]struct {
			IPAddress string `json:"IPAddress"`
		} `json:"Networks"`
	} `json:"NetworkSettings"`
}

// ip is the container's address on a network, "" when not attached.
func (c *containerInfo) ip(network string) string {
	return c.NetworkSettings.Networks[network].IPAddress
}

// inspect returns the container named name, or nil when there is none.
func (b *Backend) inspect(ctx context.Context, name string) (*containerInfo, error) {
	out, err := b.runner.Run(ctx, inspectArgs(name))
	if err != nil {
		var ee *podmancli.ExitError
		if errors.As(err, &ee) && strings.Contains(strings.ToLower(ee.Stderr), "no such container") {
			return nil, nil
		}
		return nil, fmt.Errorf("failed to inspect container %s: %w", name, err)
	}
	var list []containerInfo
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("failed to read podman inspect output for %s: %w", name, err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	return &list[0], nil
}

// cleanupTimeout bounds the removal of what a failed start created.
const cleanupTimeout = 30 * time.Second

// remove force-removes containers, best effort, with a context of its
// own: cleanup must also run when the caller's context was cancelled.
func (b *Backend) remove(names ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_, _ = b.runner.Run(ctx, removeArgs(names...))
}

// logsTail returns the last lines a container printed, for error messages.
func (b *Backend) logsTail(ctx context.Context, name string) string {
	out, err := b.runner.Run(ctx, logsArgs(name))
	s := strings.TrimSpace(string(out))
	var ee *podmancli.ExitError
	if errors.As(err, &ee) && ee.Stderr != "" {
		s = strings.TrimSpace(s + "\n" + ee.Stderr)
	}
	if s == "" {
		return "it printed nothing"
	}
	// The container's output is the agent's and the project's to write.
	return "its last output was:\n" + backend.SanitizeLines(s)
}

// pollInterval is how often readiness is checked.
const pollInterval = 100 * time.Millisecond

// poll calls check until it reports done, returns an error, or
// ReadyTimeout passes; what names the awaited condition in the error.
func (b *Backend) poll(ctx context.Context, check func(context.Context) (bool, error), what string) error {
	ctx, cancel := context.WithTimeout(ctx, b.opts.ReadyTimeout)
	defer cancel()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		done, err := check(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if done && err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("timed out after %s waiting for %s", b.opts.ReadyTimeout, what)
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}
