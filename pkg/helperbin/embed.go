//go:build paude_helpers

package helperbin

import "embed"

// helpers are the Linux builds `make helpers` puts under bin/. Building
// with the paude_helpers tag and no bin/ directory fails: a release build
// must have them.
//
//go:embed all:bin
var helpers embed.FS

func init() { embedded = helpers }
