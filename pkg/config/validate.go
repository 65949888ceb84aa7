package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate checks every setting of c. Load and LoadFile call it; call it
// again after changing a Config. It returns nil or an ErrorList; a problem
// with a value read from a file names that value's file, line and column.
func (c *Config) Validate() error {
	return c.validate().sorted()
}

// validator collects the problems of one Config.
type validator struct {
	c    *Config
	errs ErrorList
}

// fail records a problem with the setting at key (a paude.json key path).
func (v *validator) fail(key, format string, args ...any) {
	c := v.c
	path := c.srcPath
	if path == "" {
		path = c.Path
	}
	e := &Error{Path: path, Reason: key + ": " + fmt.Sprintf(format, args...), offset: math.MaxInt}
	if o, ok := c.origins[key]; ok {
		e.Line, e.Col, e.offset = o.line, o.col, o.offset
		e.Reason = o.name + ": " + fmt.Sprintf(format, args...)
	}
	v.errs = append(v.errs, e)
}

// check records err, if any, as a problem with key.
func (v *validator) check(key string, err error) {
	if err != nil {
		v.fail(key, "%v", err)
	}
}

func (c *Config) validate() ErrorList {
	v := &validator{c: c}
	if !filepath.IsAbs(c.Workspace) {
		v.fail("workspace", "%q is not an absolute path", c.Workspace)
	}
	switch {
	case c.Build != nil && c.Base != "":
		v.fail("base", "set either base or build, not both")
	case c.Build != nil:
		v.build()
	default:
		v.check("base", checkImage(string(c.Base)))
	}
	for i, p := range c.Packages {
		v.check(index("packages", i), checkPackage(p))
	}
	v.checkNoNUL("setup", c.Setup)
	switch c.Venv.Mode {
	case VenvAuto, VenvNone:
	case VenvList:
		for i, d := range c.Venv.Dirs {
			v.check(index("venv", i), checkVenvDir(d))
		}
	default:
		v.fail("venv", "%q is not a venv mode: use %q, %q or %q", c.Venv.Mode, VenvAuto, VenvNone, VenvList)
	}
	for _, k := range sortedKeys(c.Env) {
		v.check(join("env", k)+"#name", checkEnvName(k))
		if strings.HasPrefix(k, "PAUDE_") {
			// paude's own settings (the agent's arguments, yolo, setup)
			// travel in these: a project file must not be able to set them.
			v.fail(join("env", k)+"#name", "%q: names starting with PAUDE_ are reserved for paude", k)
		}
		v.checkNoNUL(join("env", k), c.Env[k])
	}
	v.agent()
	for i, d := range c.Network.AllowedDomains {
		v.check(index("network.allowedDomains", i), checkDomain(d))
	}
	v.backend()
	v.session("session.idleTimeout", c.Session.IdleTimeout)
	v.session("session.maxLifetime", c.Session.MaxLifetime)
	if !slices.Contains([]string{SyncAuto, SyncDevSpace, SyncNative}, c.Sync.Method) {
		v.fail("sync.method", "%q is not a sync method: use %q, %q or %q", c.Sync.Method, SyncAuto, SyncDevSpace, SyncNative)
	}
	for i, e := range c.Sync.Exclude {
		v.check(index("sync.exclude", i), checkRelative(e))
	}
	return v.errs
}

func (v *validator) checkNoNUL(key, s string) {
	if strings.ContainsRune(s, 0) {
		v.fail(key, "must not contain a NUL character")
	}
}

// build checks that the Dockerfile and the context are inside the
// workspace, following symbolic links: a configuration file in the
// workspace must not be able to copy other host files into the image.
func (v *validator) build() {
	b := v.c.Build
	v.inside("build.dockerfile", b.Dockerfile, false)
	v.inside("build.context", b.Context, true)
	for _, k := range sortedKeys(b.Args) {
		v.check(join("build.args", k)+"#name", checkEnvName(k))
		v.checkNoNUL(join("build.args", k), b.Args[k])
	}
}

func (v *validator) inside(key, p string, dir bool) {
	ws := v.c.Workspace
	if !within(ws, p) {
		v.fail(key, "%q is outside the workspace: keep build files inside the project", p)
		return
	}
	info, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		v.fail(key, "%q does not exist", p)
		return
	case err != nil:
		v.fail(key, "failed to check %q: %v", p, err)
		return
	case dir && !info.IsDir():
		v.fail(key, "%q is not a directory", p)
		return
	case !dir && !info.Mode().IsRegular():
		v.fail(key, "%q is not a file", p)
		return
	}
	real, err := filepath.EvalSymlinks(p)
	realWS, wsErr := filepath.EvalSymlinks(ws)
	if err != nil || wsErr != nil || !within(realWS, real) {
		v.fail(key, "%q leads outside the workspace through a symbolic link: keep build files inside the project", p)
	}
}

// within reports whether p is root or below it (lexically).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && !filepath.IsAbs(rel) && rel != ".." &&
		!strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (v *validator) agent() {
	a := v.c.Agent
	nameOK := len(validation.IsDNS1123Label(a.Name)) == 0
	if !nameOK {
		v.fail("agent.name", "%q is not a valid name: use lowercase letters, digits and '-'", a.Name)
	}
	// A command taken from a bad name would only repeat the name's error.
	if nameOK || a.Command != a.Name {
		v.check("agent.command", checkCommand(a.Command))
	}
	for i, s := range a.Args {
		v.checkNoNUL(index("agent.args", i), s)
	}
	for i, s := range a.YoloArgs {
		v.checkNoNUL(index("agent.yoloArgs", i), s)
	}
	v.checkNoNUL("agent.install", a.Install)
}

func (v *validator) backend() {
	b := v.c.Backend
	v.resources("backend.resources.", b.Resources)
	v.resources("backend.proxyResources.", b.ProxyResources)
	if b.Workspace.Size.Sign() <= 0 {
		v.fail("backend.workspace.size", "%q must be greater than zero", b.Workspace.Size.String())
	}
	if sc := b.Workspace.StorageClass; sc != "" && len(validation.IsDNS1123Subdomain(sc)) > 0 {
		v.fail("backend.workspace.storageClass", "%q is not a storage class name: use lowercase letters, digits, '-' and '.'", sc)
	}
	if ns := b.Namespace; ns != "" && len(validation.IsDNS1123Label(ns)) > 0 {
		v.fail("backend.namespace", "%q is not a namespace name: use lowercase letters, digits and '-', at most 63 characters", ns)
	}
	if r := b.Registry; r != "" {
		v.check("backend.registry", checkRegistry(r))
	}
	if p := b.Platform; p != "" {
		v.check("backend.platform", checkPlatform(p))
	}
	if b.StartTimeout <= 0 {
		v.fail("backend.startTimeout", "must be greater than zero, e.g. \"5m\"")
	}
}

// resources checks a requests and limits pair: every quantity positive,
// no request above its limit.
func (v *validator) resources(prefix string, r Resources) {
	quantities := []struct {
		key string
		q   resource.Quantity
	}{
		{prefix + "requests.cpu", r.Requests.CPU},
		{prefix + "requests.memory", r.Requests.Memory},
		{prefix + "limits.cpu", r.Limits.CPU},
		{prefix + "limits.memory", r.Limits.Memory},
	}
	good := map[string]bool{}
	for _, q := range quantities {
		good[q.key] = q.q.Sign() > 0
		if !good[q.key] {
			v.fail(q.key, "%q must be greater than zero", q.q.String())
		}
	}
	for _, what := range []string{"cpu", "memory"} {
		reqKey, limKey := prefix+"requests."+what, prefix+"limits."+what
		if !good[reqKey] || !good[limKey] {
			continue
		}
		req, lim := r.Requests.CPU, r.Limits.CPU
		if what == "memory" {
			req, lim = r.Requests.Memory, r.Limits.Memory
		}
		if req.Cmp(lim) > 0 {
			// Point at the value the file set; if it set both, the request.
			key := reqKey
			if _, ok := v.c.origins[reqKey]; !ok {
				key = limKey
			}
			v.fail(key, "the %s request %q is greater than the %s limit %q: lower the request or raise the limit", what, req.String(), what, lim.String())
		}
	}
}

// session checks a session limit: zero (never) or at least one second.
func (v *validator) session(key string, d time.Duration) {
	if d < 0 {
		v.fail(key, "%q is negative: use a positive duration, or \"0\" for never", d.String())
		return
	}
	if d != 0 && d < time.Second {
		v.fail(key, "%q is too short: use at least \"1s\", or \"0\" for never", FormatDuration(d))
	}
}

// sortedKeys returns the keys of m in order, so errors come out stably.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
