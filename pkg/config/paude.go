package config

import (
	"path/filepath"

	"github.com/tailscale/hujson"
)

// paude decodes a paude.json object (a whole paude.json, or the
// "customizations.paude" object of a devcontainer.json) onto d.cfg. Every
// key, at any depth, must be known.
func (d *decoder) paude(v *hujson.Value) {
	c := d.cfg
	d.seen = map[string]bool{}
	var (
		base, image string
		build       *Build
		agent       Agent
		domains     []string
		extend      bool
	)
	d.object(v, "", fields{
		// "$schema" lets editors offer completion; paude does not read it.
		"$schema":     func(key string, v *hujson.Value) { d.str(key, v) },
		"base":        d.setStr(&base),
		"image":       d.setStr(&image),
		"build":       func(key string, v *hujson.Value) { build = d.build(key, v, true) },
		"packages":    d.setList(&c.Packages),
		"setup":       d.setStr(&c.Setup),
		"venv":        d.venv,
		"pip_install": d.setBool(&c.PipInstall),
		"env":         d.env,
		"agent": func(key string, v *hujson.Value) {
			d.object(v, key, fields{
				"name":     d.setStr(&agent.Name),
				"command":  d.setStr(&agent.Command),
				"args":     d.setList(&agent.Args),
				"yoloArgs": d.setList(&agent.YoloArgs),
				"install":  d.setStr(&agent.Install),
			}, true)
		},
		"network": func(key string, v *hujson.Value) {
			d.object(v, key, fields{
				"allowedDomains": d.setList(&domains),
				"extendDefaults": d.setBool(&extend),
				"clusterDNS":     d.setBool(&c.Network.ClusterDNS),
			}, true)
		},
		"backend": d.backend,
		"session": func(key string, v *hujson.Value) {
			d.object(v, key, fields{
				"idleTimeout": d.setDuration(&c.Session.IdleTimeout),
				"maxLifetime": d.setDuration(&c.Session.MaxLifetime),
			}, true)
		},
		"sync": func(key string, v *hujson.Value) {
			d.object(v, key, fields{
				"method":  d.setStr(&c.Sync.Method),
				"exclude": d.setList(&c.Sync.Exclude),
			}, true)
		},
	}, true)

	d.image(base, image, build)
	d.agent(agent)
	if d.seen["network.allowedDomains"] {
		// The user's list replaces the model provider's hosts unless
		// extendDefaults is true; which provider is only known at start,
		// from the host's environment (backend.AllowedDomains).
		c.Network.AllowedDomains = domains
		c.Network.AllowedDomainsSet = true
	}
	if d.seen["network.extendDefaults"] {
		c.Network.ExtendDefaults = extend
	}
}

// image applies the mutually exclusive base, image and build keys.
func (d *decoder) image(base, image string, build *Build) {
	var set []string
	for _, k := range []string{"base", "image", "build"} {
		if d.seen[k] {
			set = append(set, k)
		}
	}
	if len(set) > 1 {
		second := d.cfg.origins[set[1]]
		d.fail(second.offset, "%s: %q and %q are alternatives: set only one of base, image and build",
			d.name(set[1]), d.name(set[0]), d.name(set[1]))
		return
	}
	switch {
	case d.seen["base"]:
		d.cfg.Base, d.cfg.Build = ImageRef(base), nil
	case d.seen["image"]:
		d.cfg.Base, d.cfg.Build = ImageRef(image), nil
		d.cfg.origins["base"] = d.cfg.origins["image"]
	case build != nil:
		d.cfg.Base, d.cfg.Build = "", build
	}
}

// agent merges the decoded agent object. Keys left out keep Claude's
// defaults while the agent is Claude; naming another agent starts from an
// empty agent whose command is its name.
func (d *decoder) agent(a Agent) {
	c := d.cfg
	if d.seen["agent.name"] && a.Name != c.Agent.Name {
		c.Agent = Agent{Name: a.Name, Command: a.Name}
		if !d.seen["agent.command"] {
			c.origins["agent.command"] = c.origins["agent.name"]
		}
	}
	if d.seen["agent.name"] {
		c.Agent.Name = a.Name
	}
	if d.seen["agent.command"] {
		c.Agent.Command = a.Command
	}
	if d.seen["agent.args"] {
		c.Agent.Args = a.Args
	}
	if d.seen["agent.yoloArgs"] {
		c.Agent.YoloArgs = a.YoloArgs
	}
	if d.seen["agent.install"] {
		c.Agent.Install = a.Install
	}
}

// backend decodes the "backend" object.
func (d *decoder) backend(key string, v *hujson.Value) {
	b := &d.cfg.Backend
	list := func(l *ResourceList) handler {
		return func(key string, v *hujson.Value) {
			d.object(v, key, fields{"cpu": d.setQuantity(&l.CPU), "memory": d.setQuantity(&l.Memory)}, true)
		}
	}
	d.object(v, key, fields{
		"resources": func(key string, v *hujson.Value) {
			d.object(v, key, fields{"requests": list(&b.Resources.Requests), "limits": list(&b.Resources.Limits)}, true)
		},
		"proxyResources": func(key string, v *hujson.Value) {
			d.object(v, key, fields{"requests": list(&b.ProxyResources.Requests), "limits": list(&b.ProxyResources.Limits)}, true)
		},
		"workspace": func(key string, v *hujson.Value) {
			d.object(v, key, fields{
				"size":         d.setQuantity(&b.Workspace.Size),
				"storageClass": d.setStr(&b.Workspace.StorageClass),
				"keepOnStop":   d.setBool(&b.Workspace.KeepOnStop),
			}, true)
		},
		"namespace":        d.setStr(&b.Namespace),
		"registry":         d.setStr(&b.Registry),
		"registryInsecure": d.setBool(&b.RegistryInsecure),
		"platform":         d.setStr(&b.Platform),
		"startTimeout":     d.setDuration(&b.StartTimeout),
	}, true)
}

// venv decodes "auto", "none" or an array of directories.
func (d *decoder) venv(key string, v *hujson.Value) {
	if lit, ok := v.Value.(hujson.Literal); ok && lit.Kind() == '"' {
		switch s := lit.String(); s {
		case VenvAuto, VenvNone:
			d.cfg.Venv = Venv{Mode: s}
			d.mark(key, d.name(key), v)
		default:
			d.fail(v.StartOffset, "%s: %q is not a venv setting: use \"auto\", \"none\" or an array of directories", d.name(key), s)
		}
		return
	}
	if _, ok := v.Value.(*hujson.Array); !ok {
		d.typeError(key, v, `"auto", "none" or an array of strings`)
		return
	}
	if dirs, ok := d.strList(key, v); ok {
		d.cfg.Venv = Venv{Mode: VenvList, Dirs: dirs}
		d.mark(key, d.name(key), v)
	}
}

// env merges an object of environment variables into Env, expanding
// ${localEnv:NAME} from the host.
func (d *decoder) env(key string, v *hujson.Value) {
	m := d.strMap(key, "env", v)
	c := d.cfg
	for k, raw := range m {
		if c.Env == nil {
			c.Env = map[string]string{}
		}
		c.Env[k] = d.expand(join("env", k), raw)
	}
}

// expand resolves ${localEnv:...} in raw, remembering raw under key when
// it takes anything from the host.
func (d *decoder) expand(key, raw string) string {
	c := d.cfg
	delete(c.templates, key)
	if !hasLocalEnv(raw) {
		return raw
	}
	if c.templates == nil {
		c.templates = map[string]string{}
	}
	c.templates[key] = raw
	return expandLocalEnv(raw, d.lookupEnv)
}

// build decodes a build object; paths are relative to the file's folder.
// The build object of a devcontainer.json is read leniently (strict false),
// as devcontainer.json has keys paude does not use.
func (d *decoder) build(key string, v *hujson.Value, strict bool) *Build {
	dockerfile, context := "", "."
	var args map[string]string
	d.object(v, key, fields{
		"dockerfile": d.setStr(&dockerfile),
		"context":    d.setStr(&context),
		"args": func(key string, v *hujson.Value) {
			// Arguments of the wrong type are reported by strMap and left
			// out; the rest are still checked by Validate.
			args = d.strMap(key, "build.args", v)
			for k, a := range args {
				args[k] = d.expand(join("build.args", k), a)
			}
		},
	}, strict)
	if _, isObj := v.Value.(*hujson.Object); !isObj {
		return nil
	}
	if !d.seen[join(key, "dockerfile")] {
		d.fail(v.StartOffset, "%s: dockerfile is required: name the Dockerfile, relative to %s", d.name(key), filepath.Base(d.src.path))
		return nil
	}
	d.mark("build", d.name(key), v)
	if !d.seen[join(key, "context")] {
		d.mark("build.context", d.name(key), v)
	}
	return &Build{Dockerfile: resolve(d.dir, dockerfile), Context: resolve(d.dir, context), Args: args}
}

// resolve makes p absolute, relative to dir.
func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}
