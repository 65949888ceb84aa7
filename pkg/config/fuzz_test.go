package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader as a paude.json and as a
// devcontainer.json. It must never panic; every rejection must be an
// ErrorList whose entries each carry a position inside the file and a
// one-line message; every accepted Config must pass Validate again and
// describe itself.
func FuzzLoad(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*/*.json")
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/devcontainer/*/.devcontainer/devcontainer.json")
	for _, p := range append(seeds, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	ws := f.TempDir()
	if err := os.MkdirAll(filepath.Join(ws, ".devcontainer"), 0o755); err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"Dockerfile", ".devcontainer/Dockerfile"} {
		if err := os.WriteFile(filepath.Join(ws, p), []byte("FROM scratch\n"), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, file := range []string{"paude.json", ".devcontainer/devcontainer.json"} {
			checkLoad(t, ws, file, data)
		}
	})
}

func checkLoad(t *testing.T, ws, file string, data []byte) {
	display := filepath.Join(ws, file)
	kind := KindPaude
	if strings.HasSuffix(file, "devcontainer.json") {
		kind = KindDevcontainer
	}
	cfg, err := Loader{LookupEnv: fakeEnv}.parse(display, display, ws, kind, data)
	if err != nil {
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("%s: error %v is %T, want a non-empty ErrorList", file, err, err)
		}
		lines := 1 + strings.Count(string(data), "\n")
		for _, e := range list {
			if e.Path != display || e.Line < 1 || e.Line > lines || e.Col < 1 {
				t.Fatalf("%s: error without a position in the file: %q", file, e.Error())
			}
			if hasControl(e.Error()) {
				t.Fatalf("%s: error message holds a control character: %q", file, e.Error())
			}
		}
		return
	}
	if cfg.Kind != kind || cfg.Path != display {
		t.Fatalf("%s: loaded as kind %q from %q", file, cfg.Kind, cfg.Path)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("%s: accepted config fails Validate: %v\ninput: %q", file, err, data)
	}
	for _, w := range cfg.Warnings {
		if !strings.HasPrefix(w, display+":") || hasControl(w) {
			t.Fatalf("%s: warning without a position or with a control character: %q", file, w)
		}
	}
	var sb strings.Builder
	if err := cfg.Describe(&sb); err != nil {
		t.Fatalf("%s: Describe: %v", file, err)
	}
}
