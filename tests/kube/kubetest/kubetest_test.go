package kubetest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestNamespaceName(t *testing.T) {
	tests := []struct {
		test, wantPrefix string
	}{
		{"TestPodExec", "kt-testpodexec-"},
		{"TestEgressPolicy/deny_all", "kt-testegresspolicy-deny-all-"},
		{"Test__Weird--Name!!", "kt-test-weird-name-"},
		{strings.Repeat("TestVeryLong", 10), "kt-testverylongtestverylongtestverylongtest-"},
		{"///", "kt-"},
	}
	for _, tt := range tests {
		t.Run(tt.test, func(t *testing.T) {
			got := NamespaceName(tt.test)
			if !strings.HasPrefix(got, tt.wantPrefix) {
				t.Errorf("NamespaceName(%q) = %q, want prefix %q", tt.test, got, tt.wantPrefix)
			}
			if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
				t.Errorf("NamespaceName(%q) = %q is not a valid namespace name: %v", tt.test, got, errs)
			}
			if again := NamespaceName(tt.test); again == got {
				t.Errorf("NamespaceName(%q) returned %q twice, want a random suffix", tt.test, got)
			}
		})
	}
}

// writeArchive writes a docker-archive with the given layers, as
// hack/testbed/image.sh and podman save do.
func writeArchive(t *testing.T, layers ...[]byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "image.tar")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for i, l := range layers {
		name := string(rune('a'+i)) + "/layer.tar"
		names = append(names, name)
		add(name, l)
	}
	var diffIDs []string
	for _, l := range layers {
		sum := sha256.Sum256(l)
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(sum[:]))
	}
	config, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	add("c.json", config)
	manifest, _ := json.Marshal([]map[string]any{{"Config": "c.json", "RepoTags": []string{"x:1"}, "Layers": names}})
	add("manifest.json", manifest)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestArchiveLayers(t *testing.T) {
	one, err := TarLayer(map[string]string{"b": "2", "a": "1"})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := TarLayer(map[string]string{"a": "1", "b": "2"})
	if !bytes.Equal(one, again) {
		t.Fatal("TarLayer is not deterministic")
	}
	two, _ := TarLayer(map[string]string{"marker": "x"})
	got, err := ArchiveLayers(writeArchive(t, one, two))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got[0], one) || !bytes.Equal(got[1], two) {
		t.Fatalf("ArchiveLayers returned %d layers, want the 2 written, in order", len(got))
	}

	bad := []struct{ name, file string }{
		{"missing file", filepath.Join(t.TempDir(), "none.tar")},
		{"no manifest", func() string {
			f := filepath.Join(t.TempDir(), "empty.tar")
			var buf bytes.Buffer
			_ = tar.NewWriter(&buf).Close()
			_ = os.WriteFile(f, buf.Bytes(), 0o644)
			return f
		}()},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ArchiveLayers(tt.file); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// tokenRegistry is go-containerregistry's in-memory registry behind Docker
// token auth, as the testbed registry is: requests without the token get
// a Bearer challenge, and the token endpoint wants basic credentials.
type tokenRegistry struct {
	registry http.Handler
	user     string
	password string
	token    string
	realm    string
}

func (f *tokenRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.password {
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"token": f.token})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+f.realm+`",service="test"`)
		http.Error(w, "token required", http.StatusUnauthorized)
		return
	}
	f.registry.ServeHTTP(w, r)
}

func TestPushImage(t *testing.T) {
	fake := &tokenRegistry{registry: registry.New(registry.Logger(log.New(io.Discard, "", 0))),
		user: "someone", password: "k8s-token", token: "registry-jwt"}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.realm = srv.URL + "/token"
	host := strings.TrimPrefix(srv.URL, "http://")
	layer, _ := TarLayer(map[string]string{"marker": "m"})
	img := Image{Cmd: []string{"/bin/cat", "/marker"}, User: "65534", Layers: [][]byte{layer}}

	reg := Registry{Host: host, Insecure: true, Auth: RegistryAuth{Username: "someone", Password: "k8s-token"}}
	ref, digest, err := PushImage(context.Background(), reg, "team/img", "v1", img)
	if err != nil {
		t.Fatal(err)
	}
	if want := host + "/team/img:v1"; ref != want {
		t.Errorf("ref = %q, want %q", ref, want)
	}
	// Read it back, authenticated as the pusher was.
	pushed, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatalf("PushImage returned reference %q: %v", ref, err)
	}
	got, err := remote.Image(pushed,
		remote.WithAuth(authn.FromConfig(authn.AuthConfig{Username: "someone", Password: "k8s-token"})))
	if err != nil {
		t.Fatalf("failed to read the pushed image back: %v", err)
	}
	if d, _ := got.Digest(); d.String() != digest {
		t.Errorf("digest = %s, the registry serves %s", digest, d)
	}
	if mt, _ := got.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type = %s, want OCI", mt)
	}
	layers, _ := got.Layers()
	if len(layers) != 1 {
		t.Fatalf("pushed %d layers, want 1", len(layers))
	}
	rc, _ := layers[0].Uncompressed()
	data, _ := io.ReadAll(rc)
	if !bytes.Equal(data, layer) {
		t.Error("the pushed layer differs from the one given")
	}
	cfg, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	diff, _ := layers[0].DiffID()
	if strings.Join(cfg.Config.Cmd, " ") != "/bin/cat /marker" || cfg.Config.User != "65534" ||
		len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != diff {
		t.Errorf("config = %+v, want the command, the user and one diff ID equal to the layer's", cfg.Config)
	}

	bad := []struct {
		name string
		reg  Registry
		img  Image
	}{
		{"no layers", reg, Image{}},
		{"wrong password", Registry{Host: host, Insecure: true, Auth: RegistryAuth{Username: "someone", Password: "nope"}}, img},
		{"anonymous", Registry{Host: host, Insecure: true}, img},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := PushImage(context.Background(), tt.reg, "team/img", "v2", tt.img); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestCountBlobUploads(t *testing.T) {
	lines := []string{
		`192.0.2.10 - - [06/Dec/2026:14:00:28 +0000] "POST /v2/ns/img/blobs/uploads/ HTTP/1.1" 202 0 "" "containers/5.23.1"`,
		`192.0.2.10 - - [06/Dec/2026:14:00:28 +0000] "PATCH /v2/ns/img/blobs/uploads/4b1d?_state=x HTTP/1.1" 202 0 "" "x"`,
		`192.0.2.10 - - [06/Dec/2026:14:00:28 +0000] "PUT /v2/ns/img/blobs/uploads/4b1d?digest=sha256:1 HTTP/1.1" 201 0 "" "x"`,
		`192.0.2.10 - - [06/Dec/2026:14:00:28 +0000] "HEAD /v2/ns/img/blobs/sha256:1 HTTP/1.1" 200 0 "" "x"`,
		`192.0.2.10 - - [06/Dec/2026:14:00:28 +0000] "PUT /v2/ns/img/manifests/v1 HTTP/1.1" 201 0 "" "x"`,
		`time="2026-12-06T14:00:28Z" level=info msg="response completed" http.request.method=PUT http.request.uri="/v2/ns/img/blobs/uploads/4b1d"`,
	}
	if got := CountBlobUploads(lines); got != 3 {
		t.Errorf("CountBlobUploads = %d, want 3 (POST, PATCH and PUT on blobs/uploads)", got)
	}
}

func TestLogCursor(t *testing.T) {
	file := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(file, []byte("old 1\nold 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cur, err := NewLogCursor(file)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString("new 1\nnew 2\npartial")
	f.Close()
	got, err := cur.Lines()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "new 1|new 2" {
		t.Errorf("Lines = %q, want the two complete lines written after the cursor", got)
	}
	missing, err := NewLogCursor(filepath.Join(t.TempDir(), "none"))
	if err != nil {
		t.Fatal(err)
	}
	if lines, err := missing.Lines(); err != nil || len(lines) != 0 {
		t.Errorf("a log that does not exist yet: Lines = %q, %v; want none", lines, err)
	}
}
