package image

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Every string from the configuration reaches the Containerfile through
// one of these functions. A Containerfile instruction ends at a newline, so
// none of them lets a control character through: such a value is refused,
// or carried in an encoding that has none (JSON, base64).

var (
	// imageRef is an image reference: [host[:port]/]path[:tag][@digest].
	imageRef = regexp.MustCompile(`^` +
		`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?` +
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
		`(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?` +
		`(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`)
	// debianPackage is a Debian package name, optionally "=version".
	debianPackage = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$`)
)

// hasControl reports whether s holds a control character (newline, tab,
// escape, DEL, ...).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// isAlnum reports whether r is an ASCII letter or digit.
func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// shellQuote quotes s as one POSIX shell word. Strings with a control
// character are refused: a newline would end the Containerfile instruction.
func shellQuote(s string) (string, error) {
	if hasControl(s) {
		return "", fmt.Errorf("%q contains a control character", s)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !isAlnum(r) && !strings.ContainsRune("+-./:=@_%,", r) }) < 0 {
		return s, nil
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// envQuote quotes s as a Containerfile ENV or LABEL value: double quotes,
// with the characters the builder treats specially ($, ", \) escaped, so
// no variable is expanded.
func envQuote(s string) (string, error) {
	if hasControl(s) {
		return "", fmt.Errorf("%q contains a control character", s)
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`)
	return `"` + r.Replace(s) + `"`, nil
}

// execForm renders argv as a Containerfile exec-form JSON array, which
// carries any string (newlines included) safely and is not expanded by the
// builder.
func execForm(argv ...string) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(argv); err != nil {
		return "", err
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return strings.ReplaceAll(out, `","`, `", "`), nil
}

// encodeArgs encodes arguments for PAUDE_AGENT_ARGS and
// PAUDE_AGENT_YOLO_ARGS: base64 of the arguments, each followed by a NUL.
// An argument holding a NUL cannot be passed to a program and is refused.
func encodeArgs(args []string) (string, error) {
	var b bytes.Buffer
	for _, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return "", fmt.Errorf("argument %q contains a NUL byte", a)
		}
		b.WriteString(a)
		b.WriteByte(0)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// checkImageRef checks a base image reference.
func checkImageRef(s string) error {
	if len(s) > 512 || !imageRef.MatchString(s) {
		return fmt.Errorf("base image %q is not an image reference: write e.g. \"docker.io/library/debian:bookworm-slim\"", s)
	}
	return nil
}

// checkPackage checks a Debian package name.
func checkPackage(s string) error {
	if !debianPackage.MatchString(s) {
		return fmt.Errorf("package %q is not a Debian package name: write a name like \"gcc\", optionally pinned like \"curl=7.88.1-10\"", s)
	}
	return nil
}

// checkCommand checks the agent command: one program name or path.
func checkCommand(s string) error {
	if s == "" || hasControl(s) || strings.ContainsAny(s, " \t") {
		return fmt.Errorf("agent command %q is not a program: write a command name or path without spaces, and put arguments in agent.args", s)
	}
	return nil
}
