//go:build tools

// Package tools pins kube-router, the testbed's NetworkPolicy enforcer; it is never compiled.
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
