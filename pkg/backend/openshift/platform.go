package openshift

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// platform is what cluster images are built for.
type platform struct {
	// Arch is the CPU architecture in Go's and Kubernetes' words
	// ("amd64", "arm64"), Variant its variant ("v7"), if any.
	Arch, Variant string
	// Source says where it came from, for messages.
	Source string
	// Foreign is set when it is not the architecture of the podman that
	// builds it: podman then builds with --platform, through emulation.
	Foreign bool
}

// flag is podman's --platform for the build, "" for a native build.
func (p platform) flag() string {
	if !p.Foreign {
		return ""
	}
	if p.Variant != "" {
		return "linux/" + p.Arch + "/" + p.Variant
	}
	return "linux/" + p.Arch
}

// tagSuffix keeps images built for another architecture apart from the
// native ones of the same content: the content tag does not say which
// architecture an image is.
func (p platform) tagSuffix() string {
	if !p.Foreign {
		return ""
	}
	return "-" + p.Arch
}

// buildPlatform decides which architecture to build for: backend.platform
// when set; else the nodes' architecture, when the user may list nodes and
// they agree; else this machine's (on a Mac, the Podman machine's is the
// same). An architecture the machine can neither run nor emulate is
// refused before anything is built or created.
func (b *Backend) buildPlatform(ctx context.Context, c *Clients) (platform, error) {
	host := b.opts.HostArch
	p := platform{Arch: host, Source: "this machine"}
	if v := b.cfg.Backend.Platform; v != "" {
		// The configuration checked it: "linux/<arch>[/<variant>]".
		parts := strings.Split(v, "/")
		p.Arch, p.Source = parts[1], "backend.platform"
		if len(parts) > 2 {
			p.Variant = parts[2]
		}
	} else {
		nodes, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		switch {
		case err == nil && len(nodes.Items) > 0:
			var archs []string
			for _, n := range nodes.Items {
				if a := n.Status.NodeInfo.Architecture; a != "" && !slices.Contains(archs, a) {
					archs = append(archs, a)
				}
			}
			slices.Sort(archs)
			switch len(archs) {
			case 0:
			case 1:
				p.Arch, p.Source = archs[0], "the cluster's nodes"
			default:
				return p, fmt.Errorf("the cluster's nodes have the architectures %s: set backend.platform (e.g. \"linux/%s\") to choose what the session's images are built for", strings.Join(archs, ", "), archs[0])
			}
		case err == nil, apierrors.IsForbidden(err):
			// Listing nodes is an administrator's right on most
			// clusters: this machine's architecture is the best guess.
		default:
			return p, b.apiError(err, "list", "nodes", "")
		}
	}
	p.Foreign = p.Arch != host
	if p.Foreign && !b.canEmulate(p.Arch) {
		return p, fmt.Errorf("the session's images must be built for %s (from %s), but this machine is %s and cannot emulate %s: install qemu-user-static (binfmt) for %s, or start from a %s machine",
			p.Arch, p.Source, host, p.Arch, p.Arch, p.Arch)
	}
	return p, nil
}

// qemuNames are binfmt_misc's names of the emulators of an architecture.
var qemuNames = map[string]string{
	"amd64": "qemu-x86_64", "arm64": "qemu-aarch64", "ppc64le": "qemu-ppc64le",
	"s390x": "qemu-s390x", "arm": "qemu-arm", "386": "qemu-i386",
}

// canEmulate reports whether podman can run binaries of arch here: on
// Linux through a registered binfmt_misc emulator. Elsewhere podman runs
// in a virtual machine that says for itself (Apple's Rosetta, qemu), so
// the build is tried and podman's own error stands.
func (b *Backend) canEmulate(arch string) bool {
	if runtime.GOOS != "linux" {
		return true
	}
	name, ok := qemuNames[arch]
	if !ok {
		return false
	}
	_, err := os.Stat(b.opts.BinfmtDir + "/" + name)
	return err == nil
}

// fileExists reports whether path names a file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
