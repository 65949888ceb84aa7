package plugin

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/helperbin"
)

// Version and Commit are set at link time:
// -ldflags "-X github.com/paude-dev/paude/pkg/plugin.Version=v0.1.0 -X ….Commit=abc123".
var (
	Version = "dev"
	Commit  = "unknown"
)

// NewCmdVersion prints the build's version and commit, and where the
// sync helper a cluster session's image carries comes from for each
// architecture (a release build carries them all).
func NewCmdVersion(streams genericiooptions.IOStreams, root *RootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit of this build",
		Args:  noArgs(root),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(streams.Out, "%s %s (commit %s, %s, %s/%s)\nsync helpers for cluster images: %s\n",
				root.Flavor.Binary, Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH,
				strings.Join(helperbin.Running().Describe(), ", "))
			return err
		},
	}
}
