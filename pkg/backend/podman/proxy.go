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

// proxySpec is everything the proxy container's `podman run` depends on.
type proxySpec struct {
	Image string
	// ConfFile is the rendered squid.conf on the host, mounted read-only.
	ConfFile string
	// ConfigHash labels the container, to tell later starts whether it
	// runs the configuration they need.
	ConfigHash string
	// InternalIP and InternalMAC ask for fixed addresses on the internal
	// network: the previous proxy's, so running agents keep reaching it
	// (the MAC too, or their neighbour caches would point at the old
	// one); "" = any.
	InternalIP      string
	InternalMAC     string
	ExternalNetwork string
	Hosts           map[string]string
	DNS             []string
	PullPolicy      string
}

// runProxyArgs starts the shared squid container on the internal network
// (where agents reach it) and the external one (its way out). It is
// hardened like the agent; squid runs as the image's non-root user.
func runProxyArgs(s proxySpec) []string {
	args := []string{"run", "--detach", "--name", ProxyContainer, "--hostname", backend.ProxyHost}
	args = append(args, labelArgs(map[string]string{
		backend.LabelApp:         backend.AppName,
		backend.LabelRole:        backend.RoleProxy,
		backend.LabelProxyConfig: s.ConfigHash,
	})...)
	args = append(args,
		"--cap-drop", "ALL",
		"--security-opt", "no-new-privileges",
		"--pids-limit", "1024",
		"--stop-timeout", "5",
	)
	if s.PullPolicy != "" {
		args = append(args, "--pull", s.PullPolicy)
	}
	internal := InternalNetwork
	if s.InternalIP != "" {
		internal += ":ip=" + s.InternalIP
		if s.InternalMAC != "" {
			internal += ",mac=" + s.InternalMAC
		}
	}
	args = append(args, "--network", internal, "--network", s.ExternalNetwork)
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

// ensureProxy makes sure the shared proxy runs with the configuration of
// p and returns its address on the internal network. A running proxy
// with the same configuration is reused as it is: squid is its main
// process, so a running container is a running squid. Otherwise it is
// replaced, keeping its address, and the internal network is made first
// when it is missing.
// cur is the proxy as the start found it (nil: none).
func (b *Backend) ensureProxy(ctx context.Context, p *proxyStep, cur *containerInfo, progress io.Writer, created *undo) (string, error) {
	spec := p.Spec
	if cur != nil {
		curIP := cur.ip(InternalNetwork)
		if cur.State.Running && cur.Config.Labels[backend.LabelProxyConfig] == spec.ConfigHash && curIP != "" {
			fmt.Fprintf(progress, "Using running proxy %s (%s)\n", ProxyContainer, curIP)
			return curIP, nil
		}
		reason := "it is not running"
		if cur.State.Running {
			reason = "its allowlist or image changed"
		}
		fmt.Fprintf(progress, "Replacing proxy %s: %s\n", ProxyContainer, reason)
		spec.InternalIP, spec.InternalMAC = curIP, cur.mac(InternalNetwork)
		if _, err := b.runner.Run(ctx, removeArgs(ProxyContainer)); err != nil {
			return "", fmt.Errorf("failed to remove the old proxy: %w", err)
		}
	}
	if err := b.ensureNetwork(ctx, created); err != nil {
		return "", err
	}
	if err := b.writeProxyConf(p.Conf, spec.ConfFile); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "Starting proxy %s (allowing %s)\n", ProxyContainer, strings.Join(p.Domains, ", "))
	_, err := b.runner.Run(ctx, runProxyArgs(spec))
	if err != nil && spec.InternalIP != "" && addressTaken(err) {
		// The old address is not free after all: running sessions lose
		// the proxy, new ones get the new address.
		b.remove(ProxyContainer)
		fmt.Fprintf(progress, "Note: the proxy's address %s is taken; starting it on a new one (running sessions lose network access)\n", spec.InternalIP)
		spec.InternalIP, spec.InternalMAC = "", ""
		_, err = b.runner.Run(ctx, runProxyArgs(spec))
	}
	if err != nil {
		// run may have created the container before failing to start it.
		b.remove(ProxyContainer)
		return "", fmt.Errorf("failed to start the proxy: %w", withHint(err))
	}
	created.push(func() { b.remove(ProxyContainer) })
	if err := b.waitProxy(ctx); err != nil {
		return "", err
	}
	now, err := b.inspect(ctx, ProxyContainer)
	if err != nil || now == nil || now.ip(InternalNetwork) == "" {
		if err == nil {
			err = fmt.Errorf("it has no address on %s", InternalNetwork)
		}
		return "", fmt.Errorf("failed to find the proxy's address: %w", err)
	}
	return now.ip(InternalNetwork), nil
}

// ensureNetwork creates the internal network when it is missing.
func (b *Backend) ensureNetwork(ctx context.Context, created *undo) error {
	if _, err := b.runner.Run(ctx, networkExistsArgs(InternalNetwork)); err == nil {
		return nil
	} else if code, ok := podmancli.ExitCode(err); !ok || code != 1 {
		return fmt.Errorf("failed to look up network %s: %w", InternalNetwork, err)
	}
	if _, err := b.runner.Run(ctx, networkCreateArgs(InternalNetwork)); err != nil {
		// Another start may have created it in the meantime.
		if alreadyExists(err) {
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

// addressTaken reports whether podman refused a fixed address because
// another container holds it.
func addressTaken(err error) bool {
	return strings.Contains(podmancli.Stderr(err), "already allocated")
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

// proxyListening reports whether squid accepts connections.
func (b *Backend) proxyListening(ctx context.Context) bool {
	_, err := b.runner.Run(ctx, proxyProbeArgs())
	return err == nil
}

// waitProxy waits until squid listens, or reports why it did not.
func (b *Backend) waitProxy(ctx context.Context) error {
	return b.poll(ctx, func(ctx context.Context) (bool, error) {
		if b.proxyListening(ctx) {
			return true, nil
		}
		c, err := b.inspect(ctx, ProxyContainer)
		if err != nil {
			return false, err
		}
		if c == nil || !c.State.Running {
			return false, fmt.Errorf("the proxy stopped during start: %s", b.logsTail(ctx, ProxyContainer))
		}
		return false, nil
	}, fmt.Sprintf("the proxy to listen on port %d", image.ProxyPort))
}
