package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/paude.golden.yaml from the current template")

// realTemplate is the repository's manifest template, the one releases use.
const realTemplate = "../../../krew/paude.yaml"

// fakeDist copies testdata/dist (goreleaser's output for a v1.2.3 release,
// with stand-in archives) into a temporary directory and applies mutate.
func fakeDist(t *testing.T, mutate func(t *testing.T, dir string)) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("testdata/dist")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata/dist", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if mutate != nil {
		mutate(t, dir)
	}
	return dir
}

// edit returns a mutation that replaces old with repl in dist's file name.
func edit(name, old, repl string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%s does not contain %q: the test's mutation is stale", name, old)
		}
		if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(repl), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*testing.T, string)
		args    []string // besides -dist and -out
		wantErr string   // empty: success, output equals the golden file
	}{
		{name: "release with four platforms"},
		{
			name:    "archive differs from checksums.txt",
			mutate:  edit("kubectl-paude_1.2.3_linux_arm64.tar.gz", "stand-in", "tampered"),
			wantErr: "but the file's sha256 is",
		},
		{
			name:    "archive missing from checksums.txt",
			mutate:  edit("checksums.txt", "kubectl-paude_1.2.3_darwin_amd64.tar.gz", "other.tar.gz"),
			wantErr: "checksums.txt has no entry for kubectl-paude_1.2.3_darwin_amd64.tar.gz",
		},
		{
			name:    "malformed checksums.txt",
			mutate:  edit("checksums.txt", "  kubectl-paude_1.2.3_linux_amd64", " kubectl-paude_1.2.3_linux_amd64"),
			wantErr: `checksums.txt:3: want "<sha256 hex>  <file name>"`,
		},
		{
			name:    "archive file missing",
			mutate:  func(t *testing.T, dir string) { rm(t, dir, "kubectl-paude_1.2.3_darwin_arm64.tar.gz") },
			wantErr: "open release archive",
		},
		{
			name:    "no metadata.json",
			mutate:  func(t *testing.T, dir string) { rm(t, dir, "metadata.json") },
			wantErr: "run make release-snapshot first",
		},
		{
			name:    "metadata without a tag",
			mutate:  edit("metadata.json", `"tag":"v1.2.3"`, `"tag":""`),
			wantErr: "has no tag or version",
		},
		{
			name:    "two archives for one platform",
			mutate:  edit("artifacts.json", `"Binaries": [`+"\n"+`    "paude"`, `"Binaries": [`+"\n"+`    "kubectl-paude", "paude"`),
			wantErr: "krew needs exactly one archive per platform",
		},
		{
			name:    "no archive holds the binary",
			args:    []string{"-binary", "kubectl-other"},
			wantErr: "no archive in",
		},
		{
			name:    "stray argument",
			args:    []string{"extra"},
			wantErr: "every input is a flag",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist := fakeDist(t, tt.mutate)
			out := filepath.Join(t.TempDir(), "krew", "paude.yaml")
			args := append([]string{"-template", realTemplate, "-dist", dist, "-out", out}, tt.args...)
			var stderr bytes.Buffer
			err := run(args, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run() error = %v, want one containing %q", err, tt.wantErr)
				}
				if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
					t.Errorf("a failed run left %s behind (stat: %v)", out, statErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run() = %v; stderr: %s", err, stderr.String())
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			golden := "testdata/paude.golden.yaml"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendered manifest differs from %s (run go test ./krewmanifest -update to accept):\n%s", golden, got)
			}
		})
	}
}

func TestRenderTemplateErrors(t *testing.T) {
	rel := release{Tag: "v1.2.3", Version: "1.2.3", Archives: []archive{{Name: "a.tar.gz", OS: "linux", Arch: "amd64", SHA256: "00"}}}
	tests := []struct {
		name, text, wantErr string
	}{
		{"unknown field", "version: {{ .Release }}", "render the manifest template"},
		{"syntax error", "version: {{ .Version ", "parse the manifest template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render("paude.yaml", tt.text, rel)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("render() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestKrewValidatesManifest runs krew's own validate-krew-manifest (v0.4.3,
// pinned as a tool of this module) on manifests rendered from the real
// template: the release's must pass, and the controls show that the
// validator rejects what krew would refuse to install.
func TestKrewValidatesManifest(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*testing.T, string)
		fileName string
		wantErr  string // empty: the validator accepts the manifest
	}{
		{name: "release manifest", fileName: "paude.yaml"},
		{
			name:     "control: version that is not semver",
			mutate:   edit("metadata.json", `"version":"1.2.3"`, `"version":"1.2"`),
			fileName: "paude.yaml",
			wantErr:  "failed to parse plugin version",
		},
		{
			name:     "control: platform krew does not know",
			mutate:   edit("artifacts.json", `"goarch": "arm64",`+"\n"+`  "target": "linux_arm64"`, `"goarch": "riscv64",`+"\n"+`  "target": "linux_arm64"`),
			fileName: "paude.yaml",
			wantErr:  "doesn't match any supported platforms",
		},
		{
			name:     "control: file named after another plugin",
			fileName: "kubectl-paude.yaml",
			wantErr:  `plugin should be named "kubectl-paude", not "paude"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist := fakeDist(t, tt.mutate)
			out := filepath.Join(t.TempDir(), tt.fileName)
			if err := run([]string{"-template", realTemplate, "-dist", dist, "-out", out}, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("go", "tool", "validate-krew-manifest", "-manifest", out, "-skip-install")
			b, err := cmd.CombinedOutput()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("krew rejects the manifest: %v\n%s", err, b)
				}
				if !bytes.Contains(b, []byte("structural validation OK")) {
					t.Fatalf("validate-krew-manifest exited 0 without validating:\n%s", b)
				}
				return
			}
			if err == nil || !bytes.Contains(b, []byte(tt.wantErr)) {
				t.Fatalf("validate-krew-manifest: err=%v, want a rejection containing %q; output:\n%s", err, tt.wantErr, b)
			}
		})
	}
}

// rm removes dir/name.
func rm(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}
