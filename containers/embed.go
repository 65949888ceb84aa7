// Package containers holds the files paude's two images are built from, so
// that a bare paude binary can build them anywhere:
//
//	paude/entrypoint.sh  the agent image's entrypoint (/usr/local/bin/paude-entrypoint);
//	                     its header states the contract backends rely on
//	paude/tmux.conf      the agent image's /etc/tmux.conf
//	paude/Containerfile.tmpl
//	                     the agent image's Containerfile, a text/template
//	                     rendered by pkg/image from the project's configuration
//	proxy/Containerfile  the squid proxy image
//	proxy/entrypoint.sh  the proxy image's entrypoint (/usr/local/bin/paude-proxy-entrypoint)
//	proxy/squid.conf.tmpl
//	                     squid.conf, a text/template rendered by pkg/image.SquidConf
//
// Nothing here is read from disk at run time: the files are embedded.
package containers

import (
	"embed"
	"io/fs"
)

//go:embed paude proxy
var files embed.FS

// FS returns the embedded image files, named by their slash-separated path
// below this directory ("paude/entrypoint.sh", "proxy/Containerfile", ...).
func FS() fs.FS {
	return files
}
