package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/describe")

// TestDescribe compares Describe's output with golden files. The
// workspace path is replaced by WORKSPACE so the files do not depend on
// where the repository lives. Run with -update to rewrite them.
func TestDescribe(t *testing.T) {
	tests := []struct{ name, file, workspace string }{
		{"defaults", "", "testdata/describe"},
		{"paude-full", "testdata/paude/full.json", "testdata/paude"},
		{"paude-build", "testdata/paude/build.json", "testdata/paude"},
		{"devcontainer-full", "testdata/devcontainer/full/.devcontainer/devcontainer.json", "testdata/devcontainer/full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg *Config
			var err error
			l := Loader{LookupEnv: fakeEnv}
			if tt.file == "" {
				cfg, err = l.Load(tt.workspace)
			} else {
				cfg, err = l.LoadFile(tt.file, tt.workspace)
			}
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := cfg.Describe(&buf); err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(buf.String(), mustAbs(t, tt.workspace), "WORKSPACE")
			if strings.Contains(got, "s3cret") {
				t.Errorf("Describe printed the value of a host variable:\n%s", got)
			}
			golden := filepath.Join("testdata/describe", tt.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("Describe output differs from %s:\n%s", golden, got)
			}
		})
	}
}
