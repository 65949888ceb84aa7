package image

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestSquidConfGolden(t *testing.T) {
	tests := []struct {
		name string
		opts SquidOptions
	}{
		{"allowlist.squid.conf", SquidOptions{AllowedDomains: []string{"api.anthropic.com", ".googleapis.com", "Accounts.Google.com"}}},
		{"hostsfile.squid.conf", SquidOptions{AllowedDomains: []string{".allowed.test"}, Port: 3129, HostsFile: true}},
		{"empty.squid.conf", SquidOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, err := SquidConf(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, conf)
		})
	}
}

func TestSquidConfRejects(t *testing.T) {
	tests := []struct {
		name    string
		domains []string
		port    int
		want    string
	}{
		{"newline injection", []string{"evil.com\nhttp_access allow all"}, 0, "only letters, digits"},
		{"carriage return", []string{"evil.com\rhttp_access allow all"}, 0, "only letters, digits"},
		{"space", []string{"evil.com all"}, 0, "only letters, digits"},
		{"tab", []string{"evil.com\tall"}, 0, "only letters, digits"},
		{"wildcard", []string{"*.example.com"}, 0, "wildcards are not supported"},
		{"IPv4", []string{"10.0.0.1"}, 0, "an IP address"},
		{"IPv4 suffix", []string{".10.0.0.1"}, 0, "an IP address"},
		{"IPv6", []string{"::1"}, 0, "an IP address"},
		{"bracketed IPv6", []string{"[fe80::1]"}, 0, "an IP address"},
		{"numeric name", []string{"1.2.3"}, 0, "ends in a number"},
		{"top-level domain", []string{".com"}, 0, "a whole top-level domain"},
		{"single label", []string{"localhost"}, 0, "a whole top-level domain"},
		{"empty", []string{""}, 0, "empty"},
		{"lone dot", []string{"."}, 0, "empty"},
		{"double dot", []string{"a..example.com"}, 0, "labels must have"},
		{"trailing dot", []string{"example.com."}, 0, "labels must have"},
		{"leading hyphen", []string{"-a.example.com"}, 0, "labels must have"},
		{"long label", []string{strings.Repeat("a", 64) + ".com"}, 0, "labels must have"},
		{"regex characters", []string{"example.com$"}, 0, "only letters, digits"},
		{"negation", []string{"!example.com"}, 0, "only letters, digits"},
		{"squid include", []string{"\"/etc/passwd\""}, 0, "only letters, digits"},
		{"unicode", []string{"exämple.com"}, 0, "only letters, digits"},
		{"duplicate", []string{"example.com", "example.com"}, 0, "listed twice"},
		{"duplicate by case", []string{".Example.com", ".example.COM"}, 0, "listed twice"},
		{"host under suffix", []string{".example.com", "www.example.com"}, 0, `"www.example.com" is already covered by ".example.com"`},
		{"apex and suffix", []string{"example.com", ".example.com"}, 0, `"example.com" is already covered by ".example.com"`},
		{"nested suffixes", []string{".a.example.com", ".example.com"}, 0, `".a.example.com" is already covered by ".example.com"`},
		{"negative port", nil, -1, "out of range"},
		{"large port", nil, 70000, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, err := SquidConf(SquidOptions{AllowedDomains: tt.domains, Port: tt.port})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %d bytes, error %v; want an error containing %q", len(conf), err, tt.want)
			}
		})
	}
}

func TestSquidConfKeepsSimilarNames(t *testing.T) {
	// A suffix covers its own subdomains only: "notexample.com" is not
	// under ".example.com".
	conf, err := SquidConf(SquidOptions{AllowedDomains: []string{".example.com", "notexample.com", "example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conf), "dstdomain -n .example.com example.org notexample.com\n") {
		t.Errorf("allowlist line missing or changed:\n%s", conf)
	}
}

// TestSquidParses runs Debian's squid over rendered configurations: it must
// accept them without a warning other than the one `via off` always gets.
func TestSquidParses(t *testing.T) {
	squid := requireTool(t, "squid")
	tests := []SquidOptions{
		{AllowedDomains: []string{"api.anthropic.com", ".googleapis.com", "accounts.google.com", ".gstatic.com"}},
		{AllowedDomains: []string{".allowed.test"}, HostsFile: true, Port: 3129},
		{},
	}
	for i, opts := range tests {
		dir := t.TempDir()
		conf, err := renderSquid(opts, dir, "/etc/hosts")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "squid.conf")
		if err := os.WriteFile(path, conf, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(squid, "-k", "parse", "-f", path).CombinedOutput()
		if err != nil {
			t.Fatalf("case %d: squid -k parse failed: %v\n%s", i, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "WARNING") || strings.Contains(line, "ERROR") || strings.Contains(line, "FATAL") {
				if !strings.Contains(line, "HTTP requires the use of Via") {
					t.Errorf("case %d: squid -k parse: %s", i, line)
				}
			}
		}
	}
}

func TestSquidParseCatchesOverlap(t *testing.T) {
	// Why the renderer refuses overlaps: squid itself fails or warns.
	squid := requireTool(t, "squid")
	conf, err := SquidConf(SquidOptions{AllowedDomains: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(conf), "dstdomain -n example.com", "dstdomain -n example.com .example.com", 1)
	path := filepath.Join(t.TempDir(), "squid.conf")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(squid, "-k", "parse", "-f", path).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is a subdomain of") {
		t.Fatalf("squid accepted an overlapping allowlist: %v\n%s", err, out)
	}
}

func TestAllowlistHash(t *testing.T) {
	a, err := AllowlistHash([]string{".example.com", "api.other.org"})
	if err != nil || len(a) != 8 {
		t.Fatalf("hash %q, %v", a, err)
	}
	b, _ := AllowlistHash([]string{"API.other.org", ".Example.com"})
	c, _ := AllowlistHash([]string{".example.com"})
	if a != b || a == c {
		t.Errorf("equal lists must share a hash, different ones not: %s %s %s", a, b, c)
	}
	if _, err := AllowlistHash([]string{"bad domain"}); err == nil {
		t.Error("a bad entry was hashed")
	}
}
