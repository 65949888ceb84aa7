//go:build tools

// Package tools pins github.com/openshift/api, whose Route CRD manifest the
// testbed installs; it is never compiled.
package tools

import _ "github.com/openshift/api/route/v1"
