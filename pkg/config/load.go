package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/tailscale/hujson"
)

// maxFileSize bounds a configuration file; anything larger is a mistake.
const maxFileSize = 1 << 20

// Loader reads configuration files. Its zero value is ready to use.
type Loader struct {
	// LookupEnv resolves ${localEnv:NAME} in env values and build args;
	// nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
}

// Load reads the configuration of the project at workspace with a zero
// Loader. See Loader.Load.
func Load(workspace string) (*Config, error) {
	return Loader{}.Load(workspace)
}

// LoadFile reads one configuration file with a zero Loader. See
// Loader.LoadFile.
func LoadFile(path, workspace string) (*Config, error) {
	return Loader{}.LoadFile(path, workspace)
}

// Load reads the first of DetectionOrder found in workspace, or returns
// the defaults (Kind KindNone) when there is none. Problems in the file
// come back as an ErrorList.
func (l Loader) Load(workspace string) (*Config, error) {
	ws, err := filepath.Abs(workspace)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve workspace %q: %w", workspace, err)
	}
	for _, name := range DetectionOrder {
		p := filepath.Join(workspace, name)
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to check config file: %w", err)
		}
		if info.IsDir() {
			return nil, fmt.Errorf("%s is a directory: paude expects a configuration file there; rename the directory", p)
		}
		return l.LoadFile(p, ws)
	}
	return Defaults(ws), nil
}

// LoadFile reads the configuration file at path for the project at
// workspace. A file named devcontainer.json or .devcontainer.json follows
// the devcontainer schema; any other name follows paude.json's. Messages
// name the file as path is spelled.
func (l Loader) LoadFile(path, workspace string) (*Config, error) {
	ws, err := filepath.Abs(workspace)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve workspace %q: %w", workspace, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve config file %q: %w", path, err)
	}
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	kind := KindPaude
	if base := filepath.Base(path); base == "devcontainer.json" || base == ".devcontainer.json" {
		kind = KindDevcontainer
	}
	return l.parse(path, abs, ws, kind, data)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read config file: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: this is not a configuration file", path, maxFileSize)
	}
	return data, nil
}

// parse decodes, validates and normalises the text of a configuration
// file. display is the path used in messages, abs its absolute form.
func (l Loader) parse(display, abs, ws string, kind Kind, data []byte) (*Config, error) {
	lookup := l.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	// Editors on Windows start UTF-8 files with a byte order mark, and
	// VS Code's JSONC reads them; it is no part of the text.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	src := newSource(display, data)
	if i := firstInvalidUTF8(data); i >= 0 {
		return nil, ErrorList{src.errorAt(i, "invalid UTF-8: save the file as UTF-8")}
	}
	root, err := hujson.Parse(data)
	if err != nil {
		return nil, ErrorList{src.syntaxError(err)}
	}
	cfg := Defaults(ws)
	cfg.Path, cfg.Kind, cfg.srcPath = abs, kind, display
	d := &decoder{src: src, cfg: cfg, dir: filepath.Dir(abs), lookupEnv: lookup}
	if _, ok := root.Value.(*hujson.Object); !ok {
		d.fail(root.StartOffset, "expected an object at the top level, got %s", kindOf(&root))
		return nil, d.errs.sorted()
	}
	if kind == KindDevcontainer {
		d.devcontainer(&root)
	} else {
		d.paude(&root)
	}
	if err := append(d.errs, cfg.validate()...).sorted(); err != nil {
		return nil, err
	}
	cfg.normalize()
	return cfg, nil
}

// coveringSuffix returns the ".suffix" entry of list, other than d itself,
// that matches d ("accounts.google.com" and "google.com" are both covered
// by ".google.com", as squid's dstdomain reads it), or "".
func coveringSuffix(d string, list []string) string {
	for _, s := range list {
		if s == d || !strings.HasPrefix(s, ".") {
			continue
		}
		if d == s[1:] || strings.HasSuffix(d, s) {
			return s
		}
	}
	return ""
}

// hujsonPosition matches the position hujson puts in its syntax errors.
var hujsonPosition = regexp.MustCompile(`(?s)^hujson: line (\d+), column (\d+): (.*)$`)

// syntaxError turns a hujson syntax error into an Error with a character
// column (hujson counts bytes).
func (s *source) syntaxError(err error) *Error {
	off, reason := len(s.data), err.Error()
	if m := hujsonPosition.FindStringSubmatch(reason); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		off, reason = s.offsetOf(line, col), m[3]
	}
	if lit, ok := strings.CutPrefix(reason, "invalid literal: "); ok {
		// hujson prints the literal raw; it may hold control characters.
		reason = "invalid value " + quoteShort(lit) + ": check quotes and escapes (control characters in strings must be escaped, e.g. \\n)"
	}
	if strings.Contains(reason, "expecting ','") {
		reason += ": is a comma missing?"
	}
	return s.errorAt(off, "syntax error: %s", escapeControl(reason))
}

// escapeControl writes control characters in s as Go escapes, so that a
// message stays on one line whatever the input held.
func escapeControl(s string) string {
	if !hasControl(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// quoteShort quotes s for a message, cut to a readable length.
func quoteShort(s string) string {
	const maxRunes = 40
	if r := []rune(s); len(r) > maxRunes {
		return strconv.Quote(string(r[:maxRunes])) + "..."
	}
	return strconv.Quote(s)
}

// normalize puts valid values in their canonical form: domains in lower
// case without duplicates and without entries a ".suffix" entry already
// covers (squid refuses such overlaps), venv directories cleaned.
func (c *Config) normalize() {
	c.normalizeDomains()
	for i, d := range c.Venv.Dirs {
		c.Venv.Dirs[i] = path.Clean(d)
	}
}

// normalizeDomains canonicalizes network.allowedDomains.
func (c *Config) normalizeDomains() {
	if len(c.Network.AllowedDomains) == 0 {
		return
	}
	lower := make([]string, len(c.Network.AllowedDomains))
	for i, d := range c.Network.AllowedDomains {
		lower[i] = strings.ToLower(d)
	}
	seen := map[string]bool{}
	domains := make([]string, 0, len(lower))
	for i, d := range lower {
		if seen[d] {
			continue
		}
		seen[d] = true
		key := index("network.allowedDomains", i)
		if by := coveringSuffix(d, lower); by != "" {
			if o, ok := c.origins[key]; ok {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s:%d:%d: %s: %q is already covered by %q: ignored",
					c.srcPath, o.line, o.col, o.name, d, by))
			}
			continue
		}
		// Keep each kept entry's origin at its new index.
		if o, ok := c.origins[key]; ok {
			c.origins[index("network.allowedDomains", len(domains))] = o
		} else {
			delete(c.origins, index("network.allowedDomains", len(domains)))
		}
		domains = append(domains, d)
	}
	c.Network.AllowedDomains = domains
}
