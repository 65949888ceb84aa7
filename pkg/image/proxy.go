package image

import (
	"github.com/paude-dev/paude/pkg/config"
)

// ProxyPort is the port squid listens on in the proxy container.
const ProxyPort = 3128

// ProxyConfPath is where backends mount the squid.conf rendered by
// SquidConf, read-only, in the proxy container. The proxy's entrypoint
// copies it to /tmp/squid, checks it with `squid -k parse` and then runs
// `squid -N` in the foreground.
const ProxyConfPath = "/etc/paude-proxy/squid.conf"

// Proxy image files, as named in the embedded file system and in the build
// context.
const (
	proxyContainerfileAsset = "proxy/Containerfile"
	proxyEntrypointAsset    = "proxy/entrypoint.sh"
)

// ProxyRecipe returns the build recipe of the squid proxy image: a fixed
// Debian bookworm base with squid and paude-proxy-entrypoint, running as
// UID 1000 in group 0 by default and under any UID. Its configuration is
// not part of the image (backends mount SquidConf's output at
// ProxyConfPath), so no project setting changes it today; cfg is accepted
// for future settings and may be nil.
func ProxyRecipe(cfg *config.Config) (*Recipe, error) {
	_ = cfg
	containerfile, err := readAsset(proxyContainerfileAsset)
	if err != nil {
		return nil, err
	}
	entrypoint, err := readAsset(proxyEntrypointAsset)
	if err != nil {
		return nil, err
	}
	recipe := &Recipe{
		Name:          ProxyName,
		Containerfile: containerfile,
		Files:         map[string][]byte{entrypointFile: entrypoint},
	}
	d := newDigest(ProxyName)
	d.add("containerfile", containerfile)
	addFiles(d, recipe.Files)
	recipe.Tag = d.tag(ProxyName)
	return recipe, nil
}
