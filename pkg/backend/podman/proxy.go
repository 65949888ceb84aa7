package podman

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/pkg/podmancli"
)

// proxySpec is everything a proxy container's `podman run` depends on.
type proxySpec struct {
	Image string
	// ConfFile is the rendered squid.conf on the host, mounted read-only.
	ConfFile string
	// ConfigHash identifies the configuration: it names and labels the
	// container, so sessions with the same allowlist (and image, hosts and
	// DNS) share a proxy and sessions with different ones never do.
	ConfigHash string
	// AllowlistHash is the allowlist's own hash (image.AllowlistHash),
	// the label both backends put on a proxy and its agents.
	AllowlistHash   string
	ExternalNetwork string
	Hosts           map[string]string
	DNS             []string
	PullPolicy      string
}

// name is the proxy container's name.
func (s proxySpec) name() string { return proxyName(s.ConfigHash) }

// runProxyArgs starts a proxy on the session's network (where its agent
// reaches it) and the external one (its way out). It is hardened like the
// agent; squid runs as the image's non-root user. Later sessions with the
// same configuration connect their own networks to it.
func runProxyArgs(s proxySpec, network string) []string {
	args := []string{"run", "--detach", "--name", s.name(), "--hostname", backend.ProxyHost}
	labels := map[string]string{
		backend.LabelApp:         backend.AppName,
		backend.LabelRole:        backend.RoleProxy,
		backend.LabelProxyConfig: s.ConfigHash,
	}
	if s.AllowlistHash != "" {
		labels[backend.LabelAllowlist] = s.AllowlistHash
	}
	args = append(args, labelArgs(labels)...)
	args = append(args,
		"--cap-drop", "ALL",
		"--security-opt", "no-new-privileges",
		"--pids-limit", "1024",
		"--stop-timeout", "5",
	)
	if s.PullPolicy != "" {
		args = append(args, "--pull", s.PullPolicy)
	}
	args = append(args, "--network", network, "--network", s.ExternalNetwork)
	for _, h := range sortedKeys(s.Hosts) {
		args = append(args, "--add-host", h+":"+s.Hosts[h])
	}
	for _, d := range s.DNS {
		args = append(args, "--dns", d)
	}
	args = append(args, "-v", s.ConfFile+":"+image.ProxyConfPath+":ro", s.Image)
	return args
}

// proxyConfigHash identifies a proxy configuration: the squid.conf, the
// image and the host entries and DNS servers it was started with.
func proxyConfigHash(conf []byte, s proxySpec) string {
	h := sha256.New()
	h.Write(conf)
	fmt.Fprintf(h, "\x00%s\x00%s\x00", s.Image, s.ExternalNetwork)
	hosts := make([]string, 0, len(s.Hosts))
	for k, v := range s.Hosts {
		hosts = append(hosts, k+"="+v)
	}
	sort.Strings(hosts)
	fmt.Fprintf(h, "%s\x00%s", strings.Join(hosts, ","), strings.Join(s.DNS, ","))
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// ensureProxy puts the proxy of p on the session's network and returns
// its address there. A proxy with this configuration that exists gets the
// network connected (and is started when it was stopped); squid is its
// main process, so a running container is a running squid. Otherwise the
// proxy is started, on the session's network from the beginning. cur is
// the proxy as the start found it (nil: none). Everything done here is
// undone by created when the start fails later: a proxy this start
// created is removed, a network it connected is disconnected.
func (b *Backend) ensureProxy(ctx context.Context, p *proxyStep, network string, cur *containerInfo, progress io.Writer, created *undo) (string, error) {
	spec := p.Spec
	name := spec.name()
	if cur != nil {
		if err := b.connectProxy(ctx, name, network, created); err != nil {
			return "", err
		}
		if cur.State.Running {
			fmt.Fprintf(progress, "Using running proxy %s\n", name)
		} else {
			fmt.Fprintf(progress, "Starting proxy %s again\n", name)
			if _, err := b.runner.Run(ctx, startArgs(name)); err != nil {
				return "", fmt.Errorf("failed to start proxy %s again: %w", name, withHint(err))
			}
			if err := b.waitProxy(ctx, name); err != nil {
				return "", err
			}
		}
		return b.proxyIP(ctx, name, network)
	}
	if err := b.writeProxyConf(p.Conf, spec.ConfFile); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "Starting proxy %s (allowing %s)\n", name, strings.Join(p.Domains, ", "))
	if _, err := b.runner.Run(ctx, runProxyArgs(spec, network)); err != nil {
		if nameInUse(err) {
			// A start with the same allowlist created it meanwhile: share it.
			return b.ensureProxy(ctx, p, network, &containerInfo{Name: name}, progress, created)
		}
		// run may have created the container before failing to start it.
		b.remove(name)
		return "", fmt.Errorf("failed to start the proxy: %w", withHint(err))
	}
	created.push(func() { b.remove(name) })
	if err := b.waitProxy(ctx, name); err != nil {
		return "", err
	}
	return b.proxyIP(ctx, name, network)
}

// connectProxy attaches the proxy to a session's network.
func (b *Backend) connectProxy(ctx context.Context, name, network string, created *undo) error {
	if _, err := b.runner.Run(ctx, networkConnectArgs(network, name)); err != nil {
		return fmt.Errorf("failed to connect proxy %s to network %s: %w", name, network, withHint(err))
	}
	created.push(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		_, _ = b.runner.Run(ctx, networkDisconnectArgs(network, name))
	})
	return nil
}

// proxyIP is the proxy's address on a session's network.
func (b *Backend) proxyIP(ctx context.Context, name, network string) (string, error) {
	c, err := b.inspect(ctx, name)
	if err == nil && (c == nil || c.ip(network) == "") {
		err = fmt.Errorf("it has no address on %s", network)
	}
	if err != nil {
		return "", fmt.Errorf("failed to find the address of proxy %s: %w", name, err)
	}
	return c.ip(network), nil
}

// ensureNetwork creates a session's network. Its name is the session's,
// so it is always new.
func (b *Backend) ensureNetwork(ctx context.Context, id string, created *undo) error {
	if _, err := b.runner.Run(ctx, networkCreateArgs(id)); err != nil {
		return fmt.Errorf("failed to create network %s: %w", sessionNetwork(id), withHint(err))
	}
	created.push(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		_, _ = b.runner.Run(ctx, networkRemoveArgs(sessionNetwork(id)))
	})
	return nil
}

// nameInUse reports podman refusing to create a container whose name is
// taken.
func nameInUse(err error) bool {
	return strings.Contains(podmancli.Stderr(err), "already in use")
}

// writeProxyConf stores the rendered squid.conf at file under StateDir,
// one file per configuration: a running proxy's file is never rewritten
// under it.
func (b *Backend) writeProxyConf(conf []byte, file string) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w: set XDG_STATE_HOME to a writable directory", dir, err)
	}
	tmp := file + ".tmp"
	// World-readable: squid reads it as the image's non-root user.
	if err := os.WriteFile(tmp, conf, 0o644); err != nil {
		return fmt.Errorf("failed to write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("failed to write %s: %w", file, err)
	}
	return nil
}

// waitProxy waits until squid listens, or reports why it did not.
func (b *Backend) waitProxy(ctx context.Context, name string) error {
	return b.poll(ctx, func(ctx context.Context) (bool, error) {
		if _, err := b.runner.Run(ctx, proxyProbeArgs(name)); err == nil {
			return true, nil
		}
		c, err := b.inspect(ctx, name)
		if err != nil {
			return false, err
		}
		if c == nil || !c.State.Running {
			return false, fmt.Errorf("the proxy stopped during start: %s", b.logsTail(ctx, name))
		}
		return false, nil
	}, fmt.Sprintf("the proxy to listen on port %d", image.ProxyPort))
}
