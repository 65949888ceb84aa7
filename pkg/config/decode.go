package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/tailscale/hujson"
)

// decoder walks a hujson syntax tree onto a Config. It reports wrong types
// and unknown keys with their position, and records where every value it
// sets came from so that Validate can point at it later.
type decoder struct {
	src *source
	cfg *Config
	// dir is the directory of the file; relative build paths start there.
	dir string
	// prefix is prepended to key paths in messages ("customizations.paude").
	prefix string
	// seen holds the paude.json key paths set by the object being decoded.
	seen map[string]bool
	// lookupEnv resolves ${localEnv:NAME}.
	lookupEnv func(string) (string, bool)
	// keyOffset is the offset of the key whose handler is running.
	keyOffset int
	errs      ErrorList
}

// handler decodes the value of one key; key is its paude.json path.
type handler func(key string, v *hujson.Value)

// fields maps the keys of one JSON object to their handlers.
type fields map[string]handler

func (d *decoder) fail(offset int, format string, args ...any) {
	d.errs = append(d.errs, d.src.errorAt(offset, format, args...))
}

// warn records a non-fatal finding, prefixed with file:line:col.
func (d *decoder) warn(offset int, format string, args ...any) {
	d.cfg.Warnings = append(d.cfg.Warnings, d.src.errorAt(offset, format, args...).Error())
}

// name is the key path as the user wrote it, for messages.
func (d *decoder) name(key string) string {
	switch {
	case d.prefix == "":
		return key
	case key == "":
		return d.prefix
	default:
		return d.prefix + "." + key
	}
}

// mark records that key was set from v, shown to the user as name.
func (d *decoder) mark(key, name string, v *hujson.Value) {
	line, col := d.src.position(v.StartOffset)
	if d.cfg.origins == nil {
		d.cfg.origins = map[string]origin{}
	}
	d.cfg.origins[key] = origin{name: name, line: line, col: col, offset: v.StartOffset}
	if d.seen != nil {
		d.seen[key] = true
	}
}

// plainKey matches keys that read unambiguously after a dot in a path.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_$-]+$`)

// join appends a key to a key path. A key of any other form (a user's
// variable name with a dot, a space or a newline) is quoted in brackets,
// so that messages stay on one line and cannot be misread.
func join(path, key string) string {
	if !plainKey.MatchString(key) {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends an array index to a key path.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// kindOf names the JSON type of v for messages.
func kindOf(v *hujson.Value) string {
	switch v.Value.Kind() {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "an unknown value"
}

// typeError reports that v is not of the wanted JSON type.
func (d *decoder) typeError(key string, v *hujson.Value, want string) {
	d.fail(v.StartOffset, "%s: expected %s, got %s", d.name(key), want, kindOf(v))
}

// object decodes the members of an object value with fs. In strict mode a
// key missing from fs is an error; otherwise it is skipped. A key given
// twice is always an error: JSON parsers disagree on which copy wins.
func (d *decoder) object(v *hujson.Value, key string, fs fields, strict bool) {
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		d.typeError(key, v, "an object")
		return
	}
	d.members(obj, key, func(k string, m *hujson.ObjectMember) {
		h, known := fs[k]
		switch {
		case known:
			d.keyOffset = m.Name.StartOffset
			h(join(key, k), &m.Value)
		case strict:
			d.fail(m.Name.StartOffset, "unknown key %q in %s (valid keys: %s)", k, d.objectName(key), keyList(fs))
		}
	})
}

// members calls fn for each member of obj, in order, once per key: a key
// given twice is reported (JSON parsers disagree on which copy wins) and
// its later copies skipped.
func (d *decoder) members(obj *hujson.Object, key string, fn func(k string, m *hujson.ObjectMember)) {
	seen := map[string]bool{}
	for i := range obj.Members {
		m := &obj.Members[i]
		k := m.Name.Value.(hujson.Literal).String()
		if seen[k] {
			d.fail(m.Name.StartOffset, "duplicate key %q in %s: remove one of them", k, d.objectName(key))
			continue
		}
		seen[k] = true
		fn(k, m)
	}
}

// objectName names an object for messages about its keys.
func (d *decoder) objectName(key string) string {
	if n := d.name(key); n != "" {
		return n
	}
	return "the top level"
}

// keyList lists the keys of fs in sorted order.
func keyList(fs fields) string {
	keys := make([]string, 0, len(fs))
	for k := range fs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// str returns the value of a JSON string. Strings may not hold NUL, which
// no environment variable, argument or file name can carry.
func (d *decoder) str(key string, v *hujson.Value) (string, bool) {
	lit, ok := v.Value.(hujson.Literal)
	if !ok || lit.Kind() != '"' {
		d.typeError(key, v, "a string")
		return "", false
	}
	s := lit.String()
	if strings.ContainsRune(s, 0) {
		d.fail(v.StartOffset, "%s: must not contain a NUL character", d.name(key))
		return "", false
	}
	return s, true
}

// boolean returns the value of a JSON true or false.
func (d *decoder) boolean(key string, v *hujson.Value) (bool, bool) {
	lit, ok := v.Value.(hujson.Literal)
	if !ok || (lit.Kind() != 't' && lit.Kind() != 'f') {
		d.typeError(key, v, "true or false")
		return false, false
	}
	return lit.Bool(), true
}

// strList returns an array of strings, marking each element's position.
func (d *decoder) strList(key string, v *hujson.Value) ([]string, bool) {
	arr, ok := v.Value.(*hujson.Array)
	if !ok {
		d.typeError(key, v, "an array of strings")
		return nil, false
	}
	out := make([]string, 0, len(arr.Elements))
	good := true
	for i := range arr.Elements {
		e := &arr.Elements[i]
		s, ok := d.str(index(key, i), e)
		if !ok {
			good = false
			continue
		}
		d.mark(index(key, i), d.name(index(key, i)), e)
		out = append(out, s)
	}
	return out, good
}

// strMap returns an object of strings. Members of another type are
// reported and left out. Each member's position is recorded under
// "base.NAME", base being its paude.json path ("env" for containerEnv).
func (d *decoder) strMap(key, base string, v *hujson.Value) map[string]string {
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		d.typeError(key, v, "an object of strings")
		return nil
	}
	out := map[string]string{}
	d.members(obj, key, func(k string, m *hujson.ObjectMember) {
		s, ok := d.str(join(key, k), &m.Value)
		if !ok {
			return
		}
		// The name's own position is where a bad name is reported.
		d.mark(join(base, k)+"#name", d.name(join(key, k)), &m.Name)
		d.mark(join(base, k), d.name(join(key, k)), &m.Value)
		out[k] = s
	})
	return out
}

// setStr returns a handler storing a string in dst.
func (d *decoder) setStr(dst *string) handler {
	return func(key string, v *hujson.Value) {
		if s, ok := d.str(key, v); ok {
			*dst = s
			d.mark(key, d.name(key), v)
		}
	}
}

// setBool returns a handler storing a boolean in dst.
func (d *decoder) setBool(dst *bool) handler {
	return func(key string, v *hujson.Value) {
		if b, ok := d.boolean(key, v); ok {
			*dst = b
			d.mark(key, d.name(key), v)
		}
	}
}

// setList returns a handler replacing dst with an array of strings.
func (d *decoder) setList(dst *[]string) handler {
	return func(key string, v *hujson.Value) {
		if l, ok := d.strList(key, v); ok {
			*dst = l
			d.mark(key, d.name(key), v)
		}
	}
}
