package config

import (
	"strings"
	"testing"
)

// TestCheckDomain feeds allowlist entries that would smuggle squid syntax,
// wildcards, ports, schemes or addresses into the proxy configuration.
func TestCheckDomain(t *testing.T) {
	valid := []string{
		"api.example.com", ".example.com", "EXAMPLE.com", "a-b.c-d.io", "x1.y2.dev",
		"xn--bcher-kva.example", strings.Repeat("a", 63) + ".com",
	}
	invalid := []string{
		"", ".", "..", "com", ".com", "localhost", "example..com", "-a.com", "a-.com",
		"*.example.com", "*", "example.com:443", "https://example.com", "example.com/path",
		"10.0.0.1", "169.254.169.254", ".1.2.3.4", "[::1]", "::1", "example.123", "0x7f.1",
		"evil.com\nhttp_access allow all", "evil.com http_access", "evil.com\t", " example.com",
		"example.com.", "a_b.example.com", "exämple.com", "user@example.com", "example.com#x",
		strings.Repeat("a", 64) + ".com", strings.Repeat("a.", 127) + "com",
	}
	for _, d := range valid {
		if err := checkDomain(d); err != nil {
			t.Errorf("checkDomain(%q) = %v, want nil", d, err)
		}
	}
	for _, d := range invalid {
		err := checkDomain(d)
		if err == nil {
			t.Errorf("checkDomain(%q) = nil, want an error", d)
			continue
		}
		// The message quotes the value: no raw newline reaches a terminal.
		if strings.ContainsAny(err.Error(), "\n\t") {
			t.Errorf("checkDomain(%q) message holds a raw control character: %q", d, err)
		}
	}
}

func TestCheckPackage(t *testing.T) {
	valid := []string{"gcc", "g++", "libc6-dev", "python3.11", "curl=7.88.1-10+deb12u5", "foo=1:2.0~rc1"}
	invalid := []string{
		"gcc;curl x|sh", "gcc curl", "a", "Gcc", "-gcc", "gcc=", "gcc=1 2", "gcc=$(id)",
		"gcc\nRUN id", "--allow-unauthenticated", "gcc/bookworm", "", "gcc=1;id",
	}
	for _, p := range valid {
		if err := checkPackage(p); err != nil {
			t.Errorf("checkPackage(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range invalid {
		if checkPackage(p) == nil {
			t.Errorf("checkPackage(%q) = nil, want an error", p)
		}
	}
}

func TestCheckImage(t *testing.T) {
	valid := []string{
		"debian", "node:22-slim", "docker.io/library/debian:bookworm-slim", "localhost:5000/a/b:c",
		"quay.io/org/img@sha256:" + strings.Repeat("ab", 32), "registry.example.com/a_b/c--d.e:1.0",
	}
	invalid := []string{
		"", "Debian", "debian\nRUN id", "debian RUN", "debian:tag:tag", "-debian", "debian@sha256:abc",
		"debian:" + strings.Repeat("t", 129), "/debian", "debian/", "--build-arg=x",
	}
	for _, s := range valid {
		if err := checkImage(s); err != nil {
			t.Errorf("checkImage(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range invalid {
		if checkImage(s) == nil {
			t.Errorf("checkImage(%q) = nil, want an error", s)
		}
	}
}

func TestCheckRelative(t *testing.T) {
	valid := []string{".venv", "a/b", "node_modules", "*.log", "./x", "a/./b", "..foo", "foo.."}
	invalid := []string{"", "/abs", `\abs`, "..", "../x", "a/../../b", `a\..\b`, "a/..", "x\ny", "x\x00"}
	for _, s := range valid {
		if err := checkRelative(s); err != nil {
			t.Errorf("checkRelative(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range invalid {
		if checkRelative(s) == nil {
			t.Errorf("checkRelative(%q) = nil, want an error", s)
		}
	}
	for _, s := range []string{".", "./", "a/.."} {
		if checkVenvDir(s) == nil {
			t.Errorf("checkVenvDir(%q) = nil, want an error", s)
		}
	}
}

func TestCheckNames(t *testing.T) {
	tests := []struct {
		check func(string) error
		name  string
		good  []string
		bad   []string
	}{
		{checkEnvName, "env", []string{"A", "_x", "FOO_BAR1"}, []string{"", "1A", "A-B", "A B", "A=B", "É"}},
		{checkRegistry, "registry", []string{"quay.io", "quay.io/org", "localhost:5000", "image-registry.openshift-image-registry.svc:5000/ns"},
			[]string{"", "https://quay.io", "quay.io/Org", "quay io", "quay.io/", "-quay.io"}},
		{checkCommand, "command", []string{"claude", "/usr/local/bin/aider"}, []string{"", "claude --yolo", "a\nb", "a\tb"}},
	}
	for _, tt := range tests {
		for _, s := range tt.good {
			if err := tt.check(s); err != nil {
				t.Errorf("%s check(%q) = %v, want nil", tt.name, s, err)
			}
		}
		for _, s := range tt.bad {
			if tt.check(s) == nil {
				t.Errorf("%s check(%q) = nil, want an error", tt.name, s)
			}
		}
	}
}
