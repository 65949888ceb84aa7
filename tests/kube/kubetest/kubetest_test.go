package kubetest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

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

// fakeRegistry is the part of the registry API v2 that PushImage uses. Its
// upload locations are relative and carry their own query, as distribution's do.
type fakeRegistry struct {
	mu        sync.Mutex
	blobs     map[string][]byte
	manifests map[string][]byte
}

var uploadPath = regexp.MustCompile(`^/v2/(.+)/blobs/uploads/(\d+)$`)

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/blobs/sha256:"):
		if _, ok := f.blobs[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]; !ok {
			w.WriteHeader(http.StatusNotFound)
		}
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/"):
		w.Header().Set("Location", r.URL.Path+"1?_state=opaque")
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPut && uploadPath.MatchString(r.URL.Path):
		if r.URL.Query().Get("_state") != "opaque" {
			http.Error(w, "upload state lost", http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		digest := "sha256:" + hex.EncodeToString(sum[:])
		if r.URL.Query().Get("digest") != digest {
			http.Error(w, "digest mismatch", http.StatusBadRequest)
			return
		}
		f.blobs[digest] = body
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/"):
		if r.Header.Get("Content-Type") != mediaManifest {
			http.Error(w, "bad manifest type", http.StatusBadRequest)
			return
		}
		f.manifests[r.URL.Path] = body
		w.WriteHeader(http.StatusCreated)
	default:
		http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusMethodNotAllowed)
	}
}

func TestPushImage(t *testing.T) {
	fake := &fakeRegistry{blobs: map[string][]byte{}, manifests: map[string][]byte{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	layer, _ := TarLayer(map[string]string{"marker": "m"})

	ref, digest, err := PushImage(context.Background(), host, "team/img", "v1", []string{"/bin/cat", "/marker"}, layer)
	if err != nil {
		t.Fatal(err)
	}
	if want := host + "/team/img:v1"; ref != want {
		t.Errorf("ref = %q, want %q", ref, want)
	}
	raw, ok := fake.manifests["/v2/team/img/manifests/v1"]
	if !ok {
		t.Fatalf("no manifest stored; have %v", fake.manifests)
	}
	sum := sha256.Sum256(raw)
	if want := "sha256:" + hex.EncodeToString(sum[:]); digest != want {
		t.Errorf("digest = %s, want the manifest's %s", digest, want)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 1 || !bytes.Equal(fake.blobs[m.Layers[0].Digest], layer) {
		t.Errorf("manifest layers %+v do not point at the uploaded layer", m.Layers)
	}
	var cfg struct {
		Config struct{ Cmd []string }
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(fake.blobs[m.Config.Digest], &cfg); err != nil {
		t.Fatalf("config blob: %v", err)
	}
	if strings.Join(cfg.Config.Cmd, " ") != "/bin/cat /marker" || len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != m.Layers[0].Digest {
		t.Errorf("config = %+v, want the command and one diff ID equal to the layer digest", cfg)
	}

	if _, _, err := PushImage(context.Background(), host, "team/img", "v2", nil); err == nil {
		t.Error("push without layers: want an error")
	}
}
