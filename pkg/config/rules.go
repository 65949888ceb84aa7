package config

import (
	"fmt"
	"net"
	"path"
	"regexp"
	"strings"
)

// Each check returns nil or an error whose text is the reason shown after
// "path:line:col: key: ". User text is always quoted with %q so that a
// newline or escape sequence in a value is shown, never acted upon.

var (
	// packageName is Debian policy's package name, optionally pinned to a
	// version made of the characters Debian versions use.
	packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$`)
	// envName is a portable environment variable name.
	envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// dnsLabel is one RFC 1123 label, lowercase.
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// imageRef is an image reference: [host[:port]/]path[:tag][@digest].
	imageRef = regexp.MustCompile(`^` +
		`(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?` +
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
		`(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?` +
		`(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`)
	// registryRef is a registry host with an optional port and path.
	registryRef = regexp.MustCompile(`^` +
		`[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?` +
		`(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
)

// checkDomain checks an allowlist entry: a hostname of at least two RFC
// 1123 labels ("api.example.com"), or the same with a leading dot for the
// domain and all its subdomains (".example.com"). Case is ignored.
func checkDomain(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("%q is not a domain (%s): write a hostname like \"api.example.com\" or a suffix like \".example.com\"", s, why)
	}
	name := strings.ToLower(strings.TrimPrefix(s, "."))
	switch {
	case name == "":
		return bad("empty")
	case len(name) > 253:
		return bad("longer than 253 characters")
	case net.ParseIP(strings.Trim(name, "[]")) != nil:
		return bad("an IP address")
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return bad("a whole top-level domain, or a name without a dot")
	}
	for _, l := range labels {
		if !dnsLabel.MatchString(l) {
			return bad("only letters, digits, '-' and '.' are allowed, in labels of 1 to 63 characters")
		}
	}
	if isDigits(labels[len(labels)-1]) {
		return bad("ends in a number, like an IP address")
	}
	return nil
}

// checkPackage checks a Debian package name, optionally "=version".
func checkPackage(s string) error {
	if !packageName.MatchString(s) {
		return fmt.Errorf("%q is not a Debian package name: write a name like \"gcc\", optionally pinned like \"curl=7.88.1-10\"", s)
	}
	return nil
}

// checkEnvName checks an environment variable (or build argument) name.
func checkEnvName(s string) error {
	if !envName.MatchString(s) {
		return fmt.Errorf("%q is not a variable name: use letters, digits and '_', not starting with a digit", s)
	}
	return nil
}

// checkRelative checks a workspace-relative path or pattern: not empty,
// not absolute, no ".." element, no control characters.
func checkRelative(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case strings.HasPrefix(s, "/") || strings.HasPrefix(s, `\`):
		return fmt.Errorf("%q is absolute: write a path relative to the workspace", s)
	case hasControl(s):
		return fmt.Errorf("%q contains a control character", s)
	}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return fmt.Errorf("%q leaves the workspace: remove the \"..\"", s)
		}
	}
	return nil
}

// checkVenvDir checks a venv directory: relative, and not the workspace
// itself, which an empty volume would hide.
func checkVenvDir(s string) error {
	if err := checkRelative(s); err != nil {
		return err
	}
	if path.Clean(strings.ReplaceAll(s, `\`, "/")) == "." {
		return fmt.Errorf("%q is the workspace itself: name a directory inside it", s)
	}
	return nil
}

// checkImage checks an image reference such as "node:22-slim" or
// "quay.io/org/img@sha256:...".
func checkImage(s string) error {
	if len(s) > 512 || !imageRef.MatchString(s) {
		return fmt.Errorf("%q is not an image reference: write e.g. \"docker.io/library/debian:bookworm-slim\"", s)
	}
	return nil
}

// checkRegistry checks a registry, optionally with a port and a path.
func checkRegistry(s string) error {
	if len(s) > 255 || !registryRef.MatchString(s) {
		return fmt.Errorf("%q is not a registry: write a host with an optional port and path, e.g. \"quay.io/myorg\"", s)
	}
	return nil
}

// platformRe is a Linux platform as podman --platform takes it.
var platformRe = regexp.MustCompile(`^linux/(amd64|arm64|ppc64le|s390x|386|arm)(/v[5-8])?$`)

// checkPlatform checks a build platform such as "linux/arm64".
func checkPlatform(s string) error {
	if !platformRe.MatchString(s) {
		return fmt.Errorf("%q is not a platform: write e.g. \"linux/amd64\" or \"linux/arm64\"", s)
	}
	return nil
}

// checkCommand checks the agent command: a program name or path.
func checkCommand(s string) error {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%q is not a program: write a command name or path without spaces, and put arguments in agent.args", s)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
