//go:build tools

// Package tools pins local-path-provisioner, the testbed's dynamic volume
// provisioner, which build.sh compiles from this module; it is never
// compiled itself.
package tools

import _ "github.com/rancher/local-path-provisioner"
