// Command coredns is the testbed's cluster DNS: CoreDNS's own server
// (coremain) with only the plugins the testbed's Corefile uses, so the
// build skips the cloud backends (route53, azure, clouddns, …) that a full
// CoreDNS compiles in.
package main

import (
	"github.com/coredns/coredns/coremain"

	// The plugins the Corefile in hack/testbed/config/coredns.yaml names.
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() { coremain.Run() }
