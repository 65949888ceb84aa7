package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestAllowedDomainsCoveredBySuffixAreDropped(t *testing.T) {
	dir := t.TempDir()
	data := "{\n  \"network\": {\"allowedDomains\": [\n    \".Example.com\",\n    \"api.example.com\",\n    \"example.com\",\n    \"other.org\",\n    \"OTHER.org\",\n  ]}\n}\n"
	path := filepath.Join(dir, "paude.json")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadFile(path, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".example.com", "other.org"}; !reflect.DeepEqual(cfg.Network.AllowedDomains, want) {
		t.Fatalf("domains %q, want %q", cfg.Network.AllowedDomains, want)
	}
	want := []string{
		path + `:4:5: network.allowedDomains[1]: "api.example.com" is already covered by ".example.com": ignored`,
		path + `:5:5: network.allowedDomains[2]: "example.com" is already covered by ".example.com": ignored`,
	}
	if !reflect.DeepEqual(cfg.Warnings, want) {
		t.Fatalf("warnings:\n%q\nwant:\n%q", cfg.Warnings, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("normalised config does not validate: %v", err)
	}
}
