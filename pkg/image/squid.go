package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"text/template"
)

// squidTemplate is the squid.conf template in the embedded file system.
const squidTemplate = "proxy/squid.conf.tmpl"

// Defaults of the rendered squid.conf: where the proxy's entrypoint puts
// its run directory, and the hosts file HostsFile names.
const (
	squidRunDir    = "/tmp/squid"
	squidHostsFile = "/etc/hosts"
)

// SquidOptions says what SquidConf renders.
type SquidOptions struct {
	// AllowedDomains are the hosts ("api.example.com") and domain suffixes
	// (".example.com": the domain and all its subdomains) the proxy lets
	// requests through to. Empty means nothing is allowed.
	AllowedDomains []string
	// Port is the port squid listens on; 0 means ProxyPort (3128).
	Port int
	// HostsFile makes squid resolve names only from /etc/hosts and never
	// ask a DNS server (for tests and setups that pin every allowed name,
	// e.g. with podman --add-host).
	HostsFile bool
}

// squidData fills the squid.conf template.
type squidData struct {
	Port      int
	RunDir    string
	HostsFile bool
	HostsPath string
	Domains   []string
}

// SquidConf renders the proxy's squid.conf: only ports 80 and 443, CONNECT
// only to 443, no request to a host written as an IP address, names outside
// the allowlist refused before any lookup, no allowed name that resolves to
// a loopback, link-local, private, CGNAT or ULA address, no Via or
// X-Forwarded-For, no cache, and everything squid writes under /tmp/squid
// so that it runs under any UID. Every allowlist entry is checked again
// here: one that is not a hostname or ".suffix", or that repeats or is
// covered by another (squid refuses "x is a subdomain of .x"), is an error.
func SquidConf(opts SquidOptions) ([]byte, error) {
	return renderSquid(opts, squidRunDir, squidHostsFile)
}

// renderSquid is SquidConf with the run directory and hosts file as
// parameters, so tests can run squid outside a container.
func renderSquid(opts SquidOptions, runDir, hostsPath string) ([]byte, error) {
	port := opts.Port
	if port == 0 {
		port = ProxyPort
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("proxy port %d is out of range: use 1 to 65535", port)
	}
	domains, err := normalizeDomains(opts.AllowedDomains)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{runDir, hostsPath} {
		if !strings.HasPrefix(p, "/") || hasControl(p) || strings.ContainsAny(p, " \t\"'") {
			return nil, fmt.Errorf("squid path %q must be absolute, without spaces or quotes", p)
		}
	}
	src, err := readAsset(squidTemplate)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New(squidTemplate).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("failed to parse %s: %w", squidTemplate, err)
	}
	var b bytes.Buffer
	data := squidData{Port: port, RunDir: runDir, HostsFile: opts.HostsFile, HostsPath: hostsPath, Domains: domains}
	if err := tmpl.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("failed to render %s: %w", squidTemplate, err)
	}
	return b.Bytes(), nil
}

// normalizeDomains checks every allowlist entry, lowercases it and returns
// the list sorted; duplicates and overlaps are errors.
func normalizeDomains(entries []string) ([]string, error) {
	out := make([]string, 0, len(entries))
	seen := map[string]string{}
	for _, e := range entries {
		if err := checkDomain(e); err != nil {
			return nil, err
		}
		d := strings.ToLower(e)
		if prev, ok := seen[d]; ok {
			return nil, fmt.Errorf("allowed domain %q is listed twice (also as %q): remove one", e, prev)
		}
		seen[d] = e
		out = append(out, d)
	}
	for _, a := range out {
		if !strings.HasPrefix(a, ".") {
			continue
		}
		for _, b := range out {
			if a != b && (b == a[1:] || strings.HasSuffix(b, a)) {
				return nil, fmt.Errorf("allowed domain %q is already covered by %q: remove %q", seen[b], seen[a], seen[b])
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// checkDomain checks one allowlist entry: a hostname of at least two
// labels, or the same with a leading dot for a whole domain.
func checkDomain(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("allowed domain %q is not valid (%s): write a hostname like \"api.example.com\" or a suffix like \".example.com\"", s, why)
	}
	name := strings.TrimPrefix(s, ".")
	if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return bad("an IP address; the proxy never allows addresses, only names")
	}
	switch {
	case name == "":
		return bad("empty")
	case strings.Contains(s, "*"):
		return bad("wildcards are not supported; \".example.com\" allows example.com and all its subdomains")
	case strings.ContainsFunc(s, func(r rune) bool { return !isAlnum(r) && r != '-' && r != '.' }):
		return bad("only letters, digits, '-' and '.' are allowed")
	case len(name) > 253:
		return bad("longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return bad("a whole top-level domain, or a name without a dot")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return bad("labels must have 1 to 63 characters and not start or end with '-'")
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return bad("ends in a number, like an IP address")
	}
	return nil
}

// AllowlistHash identifies an allowlist: 8 hex digits of the SHA-256 of
// its normalised entries (lower case, sorted). Proxies are named and
// labelled by it, so sessions with equal allowlists share one and a
// session never runs behind a proxy of another allowlist.
func AllowlistHash(domains []string) (string, error) {
	norm, err := normalizeDomains(domains)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(strings.Join(norm, "\n")))
	return hex.EncodeToString(sum[:4]), nil
}
