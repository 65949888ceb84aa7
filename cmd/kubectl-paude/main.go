// Command kubectl-paude is paude as a kubectl/oc plugin ("kubectl paude",
// "oc paude"); its default backend is OpenShift/Kubernetes.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(plugin.Main(streams, plugin.KubectlPlugin, os.Args))
}
