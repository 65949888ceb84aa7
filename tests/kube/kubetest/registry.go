package kubetest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RegistryAuth is a credential for the testbed registry, which works like
// OpenShift's integrated one: any user name, and a Kubernetes bearer token
// (a user's or a ServiceAccount's) as the password.
type RegistryAuth struct {
	Username, Password string
}

// Registry is where PushImage uploads: a registry host, how to reach it
// and who to be there.
type Registry struct {
	// Host is host[:port] as it appears in image references.
	Host string
	// Auth is offered to the registry's token endpoint; zero means anonymous.
	Auth RegistryAuth
	// Transport makes the requests (TLS settings); nil is http.DefaultTransport.
	Transport http.RoundTripper
	// Insecure speaks plain HTTP, for a test's own httptest registry.
	Insecure bool
}

// Image is what PushImage builds: a config and uncompressed layer
// tarballs, bottom first.
type Image struct {
	// Cmd is the image's default command.
	Cmd []string
	// User is the image's USER; empty runs as root.
	User string
	// Layers are uncompressed tar files.
	Layers [][]byte
}

// PushImage uploads img to reg as repository:tag through the registry HTTP
// API v2 (go-containerregistry, Docker token auth included) as an OCI image
// with uncompressed layers. It returns the reference pushed and the
// manifest digest, which a node that pulled the image reports in its
// imageID.
func PushImage(ctx context.Context, reg Registry, repository, tag string, img Image) (ref, digest string, err error) {
	if len(img.Layers) == 0 {
		return "", "", errors.New("an image needs at least one layer")
	}
	var opts []name.Option
	if reg.Insecure {
		opts = append(opts, name.Insecure)
	}
	target, err := name.NewTag(reg.Host+"/"+repository+":"+tag, opts...)
	if err != nil {
		return "", "", fmt.Errorf("invalid image reference %s/%s:%s: %w", reg.Host, repository, tag, err)
	}
	image, err := buildImage(img)
	if err != nil {
		return "", "", err
	}
	transport := reg.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	auth := authn.Anonymous
	if reg.Auth != (RegistryAuth{}) {
		auth = authn.FromConfig(authn.AuthConfig{Username: reg.Auth.Username, Password: reg.Auth.Password})
	}
	if err := remote.Write(target, image, remote.WithContext(ctx), remote.WithAuth(auth), remote.WithTransport(transport)); err != nil {
		return "", "", fmt.Errorf("failed to push %s: %w", target, err)
	}
	d, err := image.Digest()
	if err != nil {
		return "", "", fmt.Errorf("failed to compute the manifest digest of %s: %w", target, err)
	}
	return target.String(), d.String(), nil
}

// buildImage assembles an OCI image from img.
func buildImage(img Image) (v1.Image, error) {
	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Config:       v1.Config{Env: []string{"PATH=/bin"}, Cmd: img.Cmd, User: img.User},
		RootFS:       v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to set the image config: %w", err)
	}
	layers := make([]v1.Layer, 0, len(img.Layers))
	for _, l := range img.Layers {
		layers = append(layers, static.NewLayer(l, types.OCIUncompressedLayer))
	}
	out, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, fmt.Errorf("failed to add the layers: %w", err)
	}
	out = mutate.MediaType(out, types.OCIManifestSchema1)
	return mutate.ConfigMediaType(out, types.OCIConfigJSON), nil
}

// ArchiveLayers reads the uncompressed layer tarballs, bottom first, of the
// only image in a docker-archive file (as written by podman save or
// hack/testbed/image.sh).
func ArchiveLayers(file string) ([][]byte, error) {
	img, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to read image archive %s: %w", file, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("failed to list the layers of image archive %s: %w", file, err)
	}
	out := make([][]byte, 0, len(layers))
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("failed to open layer %d of image archive %s: %w", i, file, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("failed to read layer %d of image archive %s: %w", i, file, err)
		}
		out = append(out, data)
	}
	return out, nil
}

// TarLayer builds an uncompressed layer holding the given regular files
// (path → content, mode 0644, owned by root).
func TarLayer(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// Sorted names: the same files always make the same layer digest.
	for _, name := range slices.Sorted(maps.Keys(files)) {
		content := files[name]
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("failed to write layer entry %s: %w", name, err)
		}
		if _, err := io.WriteString(tw, content); err != nil {
			return nil, fmt.Errorf("failed to write layer entry %s: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("failed to finish layer: %w", err)
	}
	return buf.Bytes(), nil
}
