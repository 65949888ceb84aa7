package config

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tailscale/hujson"
	"k8s.io/apimachinery/pkg/api/resource"
)

// isolationKeys are devcontainer.json keys paude ignores because honouring
// them would weaken the container's isolation (host mounts, extra runtime
// flags, privileges, published ports, another user) or run code on the host.
var isolationKeys = map[string]string{
	"mounts":            "it would mount host paths into the container",
	"workspaceMount":    "it would change how the host workspace is mounted",
	"runArgs":           "it would pass arbitrary flags to the container runtime",
	"privileged":        "it would run the container privileged",
	"capAdd":            "it would add Linux capabilities",
	"securityOpt":       "it would change the container's security options",
	"init":              "paude runs its own init",
	"forwardPorts":      "it would publish container ports",
	"appPort":           "it would publish container ports",
	"remoteUser":        "paude runs the agent as its own unprivileged user",
	"initializeCommand": "it would run a command on the host",
}

// unsupportedKeys are devcontainer.json features paude does not implement,
// worth a warning because the resulting container differs from what the
// file describes.
var unsupportedKeys = map[string]string{
	"dockerComposeFile": "paude does not run Docker Compose; set image or build instead",
	"features":          "paude does not install devcontainer features; list Debian packages in customizations.paude.packages or use build",
}

// devcontainer decodes a devcontainer.json. Keys paude does not know are
// ignored (the format is shared with other tools); customizations.paude
// holds paude.json keys, read strictly and applied last.
func (d *decoder) devcontainer(v *hujson.Value) {
	c := d.cfg
	d.seen = map[string]bool{}
	var (
		image, dockerFile, context string
		build                      *Build
		paude                      *hujson.Value
	)
	fs := fields{
		"image": d.setStr(&image),
		"build": func(key string, v *hujson.Value) { build = d.build(key, v, false) },
		// dockerFile and context are the deprecated spellings of build.
		"dockerFile":   d.setStr(&dockerFile),
		"context":      d.setStr(&context),
		"containerEnv": d.env,
		"postCreateCommand": func(key string, v *hujson.Value) {
			if s, ok := d.command(key, v); ok {
				c.Setup = s
				d.mark("setup", d.name(key), v)
			}
		},
		"hostRequirements": d.hostRequirements,
		"customizations": func(key string, v *hujson.Value) {
			d.object(v, key, fields{"paude": func(_ string, v *hujson.Value) { paude = v }}, false)
		},
	}
	warn := func(reason string) handler {
		return func(key string, v *hujson.Value) {
			d.warn(d.keyOffset, "ignoring %q: %s", key, reason)
		}
	}
	for k, why := range isolationKeys {
		fs[k] = warn(why)
	}
	for k, why := range unsupportedKeys {
		fs[k] = warn(why)
	}
	d.object(v, "", fs, false)

	// The deprecated spelling counts only when "build" is absent.
	if build == nil && d.seen["dockerFile"] {
		if !d.seen["context"] {
			context = "."
		}
		build = &Build{Dockerfile: resolve(d.dir, dockerFile), Context: resolve(d.dir, context)}
		c.origins["build"] = c.origins["dockerFile"]
		c.origins["build.dockerfile"] = c.origins["dockerFile"]
		c.origins["build.context"] = c.origins["dockerFile"]
		if d.seen["context"] {
			c.origins["build.context"] = c.origins["context"]
		}
	}
	switch {
	case d.seen["image"] && build != nil:
		d.fail(c.origins["image"].offset, "image: set either image or build, not both")
	case d.seen["image"]:
		c.Base, c.Build = ImageRef(image), nil
		c.origins["base"] = c.origins["image"]
	case build != nil:
		c.Base, c.Build = "", build
	}

	if paude != nil {
		d.prefix = "customizations.paude"
		d.paude(paude)
	}
}

// command turns a devcontainer lifecycle command into one shell command.
// A string is used as is; an array is an argv, quoted for the shell; an
// object is a set of named commands, which devcontainer tools run in
// parallel and paude runs one after another, sorted by name, each in a
// subshell, stopping at the first failure.
func (d *decoder) command(key string, v *hujson.Value) (string, bool) {
	switch val := v.Value.(type) {
	case hujson.Literal:
		if val.Kind() == '"' {
			return d.str(key, v)
		}
	case *hujson.Array:
		argv, ok := d.strList(key, v)
		return shellJoin(argv), ok
	case *hujson.Object:
		cmds := map[string]string{}
		good := true
		for i := range val.Members {
			m := &val.Members[i]
			name := m.Name.Value.(hujson.Literal).String()
			if _, dup := cmds[name]; dup {
				d.fail(m.Name.StartOffset, "duplicate key %q in %s: remove one of them", name, d.objectName(key))
				good = false
				continue
			}
			s, ok := d.command(join(key, name), &m.Value)
			good = good && ok
			cmds[name] = s
		}
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, 0, len(names))
		for _, n := range names {
			if cmds[n] != "" {
				parts = append(parts, "("+cmds[n]+"\n)")
			}
		}
		return strings.Join(parts, " && "), good
	}
	d.typeError(key, v, "a string, an array of strings or an object")
	return "", false
}

// shellSafe matches words that need no quoting in a POSIX shell.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellJoin quotes each word for a POSIX shell and joins them with spaces.
func shellJoin(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		if shellSafe.MatchString(a) {
			words[i] = a
		} else {
			words[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(words, " ")
}

// devMemory is the devcontainer spec's memory pattern: a whole number of
// bytes with an optional tb, gb, mb or kb unit (binary multiples).
var devMemory = regexp.MustCompile(`^([0-9]+)([tTgGmMkK][bB])?$`)

// hostRequirements maps hostRequirements.cpus and .memory onto both the
// resource requests and limits. Other requirements (storage, gpu) are
// ignored.
func (d *decoder) hostRequirements(key string, v *hujson.Value) {
	r := &d.cfg.Backend.Resources
	setBoth := func(what, value string, v *hujson.Value, name string) {
		d.mark("backend.resources.requests."+what, name, v)
		d.mark("backend.resources.limits."+what, name, v)
		switch what {
		case "cpu":
			r.Requests.CPU, r.Limits.CPU = resource.MustParse(value), resource.MustParse(value)
		case "memory":
			r.Requests.Memory, r.Limits.Memory = resource.MustParse(value), resource.MustParse(value)
		}
	}
	d.object(v, key, fields{
		"cpus": func(key string, v *hujson.Value) {
			lit, ok := v.Value.(hujson.Literal)
			if !ok || lit.Kind() != '0' {
				d.typeError(key, v, "a whole number")
				return
			}
			n, err := strconv.ParseUint(string(lit), 10, 32)
			if err != nil || n == 0 {
				d.fail(v.StartOffset, "%s: %s is not a CPU count: use a whole number of at least 1", key, lit)
				return
			}
			setBoth("cpu", strconv.FormatUint(n, 10), v, key)
		},
		"memory": func(key string, v *hujson.Value) {
			s, ok := d.str(key, v)
			if !ok {
				return
			}
			m := devMemory.FindStringSubmatch(s)
			var n uint64
			if m != nil {
				n, _ = strconv.ParseUint(m[1], 10, 64)
			}
			if n == 0 {
				d.fail(v.StartOffset, "%s: %q is not a memory size: use a positive whole number with an optional tb, gb, mb or kb unit, e.g. \"8gb\"", key, s)
				return
			}
			units := map[string]string{"": "", "kb": "Ki", "mb": "Mi", "gb": "Gi", "tb": "Ti"}
			setBoth("memory", strconv.FormatUint(n, 10)+units[strings.ToLower(m[2])], v, key)
		},
	}, false)
}
