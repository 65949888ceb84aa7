package kubetest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"time"
)

// OCI media types of the images PushImage writes. Layers stay uncompressed:
// the registry is on loopback and containerd accepts them as they are.
const (
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar"
)

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

// PushImage uploads an image made of the given uncompressed layer tarballs
// (first is the bottom) to the plain-HTTP registry at host:port registry as
// repository:tag, using the registry HTTP API v2. cmd is the image's default
// command. It returns the image reference to use in a pod spec and the
// manifest digest, which a node that pulled the image reports in its imageID.
func PushImage(ctx context.Context, registry, repository, tag string, cmd []string, layers ...[]byte) (ref, digest string, err error) {
	if len(layers) == 0 {
		return "", "", errors.New("an image needs at least one layer")
	}
	base := &url.URL{Scheme: "http", Host: registry, Path: "/v2/" + repository + "/"}
	client := &http.Client{Timeout: time.Minute}
	m := manifest{SchemaVersion: 2, MediaType: mediaManifest}
	diffIDs := make([]string, 0, len(layers))
	for _, layer := range layers {
		d, err := pushBlob(ctx, client, base, layer)
		if err != nil {
			return "", "", err
		}
		m.Layers = append(m.Layers, descriptor{MediaType: mediaLayer, Digest: d, Size: int64(len(layer))})
		diffIDs = append(diffIDs, d)
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Env": []string{"PATH=/bin"}, "Cmd": cmd},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return "", "", fmt.Errorf("failed to encode the image config: %w", err)
	}
	configDigest, err := pushBlob(ctx, client, base, config)
	if err != nil {
		return "", "", err
	}
	m.Config = descriptor{MediaType: mediaConfig, Digest: configDigest, Size: int64(len(config))}
	body, err := json.Marshal(m)
	if err != nil {
		return "", "", fmt.Errorf("failed to encode the image manifest: %w", err)
	}
	if _, err := send(ctx, client, http.MethodPut, base.JoinPath("manifests", tag).String(), mediaManifest, body, http.StatusCreated); err != nil {
		return "", "", fmt.Errorf("failed to push manifest %s:%s: %w", repository, tag, err)
	}
	sum := sha256.Sum256(body)
	return registry + "/" + repository + ":" + tag, "sha256:" + hex.EncodeToString(sum[:]), nil
}

// pushBlob uploads one blob unless the registry has it, and returns its digest.
func pushBlob(ctx context.Context, client *http.Client, base *url.URL, blob []byte) (string, error) {
	sum := sha256.Sum256(blob)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if _, err := send(ctx, client, http.MethodHead, base.JoinPath("blobs", digest).String(), "", nil, http.StatusOK); err == nil {
		return digest, nil
	}
	header, err := send(ctx, client, http.MethodPost, base.JoinPath("blobs", "uploads").String()+"/", "", nil, http.StatusAccepted)
	if err != nil {
		return "", fmt.Errorf("failed to start the upload of blob %s: %w", digest, err)
	}
	// The upload URL may be relative to the registry and carries its own query.
	loc, err := base.Parse(header.Get("Location"))
	if err != nil {
		return "", fmt.Errorf("registry sent a bad upload location %q: %w", header.Get("Location"), err)
	}
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	if _, err := send(ctx, client, http.MethodPut, loc.String(), "application/octet-stream", blob, http.StatusCreated); err != nil {
		return "", fmt.Errorf("failed to upload blob %s: %w", digest, err)
	}
	return digest, nil
}

// send makes one request and fails unless the response has status want; it
// returns the response headers.
func send(ctx context.Context, client *http.Client, method, target, contentType string, body []byte, want int) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("failed to build request %s %s: %w", method, target, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to send %s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: got HTTP %d, want %d: %s", method, target, resp.StatusCode, want, bytes.TrimSpace(msg))
	}
	return resp.Header, nil
}

// ArchiveLayers reads the layer tarballs, bottom first, of the only image in
// a docker-archive file (as written by podman save or hack/testbed/image.sh).
func ArchiveLayers(file string) ([][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("failed to open image archive: %w", err)
	}
	defer f.Close()
	entries := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read image archive %s: %w", file, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s in image archive %s: %w", h.Name, file, err)
		}
		entries[path.Clean(h.Name)] = data
	}
	var images []struct{ Layers []string }
	if err := json.Unmarshal(entries["manifest.json"], &images); err != nil {
		return nil, fmt.Errorf("image archive %s has no valid manifest.json: %w", file, err)
	}
	if len(images) != 1 {
		return nil, fmt.Errorf("image archive %s holds %d images, want 1", file, len(images))
	}
	layers := make([][]byte, 0, len(images[0].Layers))
	for _, name := range images[0].Layers {
		data, ok := entries[path.Clean(name)]
		if !ok {
			return nil, fmt.Errorf("image archive %s lacks layer %s", file, name)
		}
		layers = append(layers, data)
	}
	return layers, nil
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
