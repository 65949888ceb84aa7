package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocExamples loads the JSONC examples of docs/CONFIGURATION.md, so
// the documentation cannot drift from what the loader accepts.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/CONFIGURATION.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```jsonc\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) != 2 {
		t.Fatalf("found %d jsonc examples in docs/CONFIGURATION.md, want 2", len(blocks))
	}
	for _, b := range blocks {
		text := b[1]
		name := "paude.json"
		if strings.HasPrefix(text, "// .devcontainer/devcontainer.json") {
			name = ".devcontainer/devcontainer.json"
		}
		t.Run(name, func(t *testing.T) {
			ws := writeFiles(t, map[string]string{name: text, ".devcontainer/Dockerfile": "FROM scratch\n"})
			cfg, err := Load(ws)
			if err != nil {
				t.Fatalf("example %s does not load:\n%v", name, err)
			}
			wantWarnings := 0
			if cfg.Kind == KindDevcontainer {
				wantWarnings = 1 // "mounts"
			}
			if len(cfg.Warnings) != wantWarnings {
				t.Errorf("example %s gave warnings %q, want %d", name, cfg.Warnings, wantWarnings)
			}
		})
	}
}
