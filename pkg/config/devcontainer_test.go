package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

func TestLoadDevcontainer(t *testing.T) {
	full := "testdata/devcontainer/full/.devcontainer/devcontainer.json"
	tests := []struct {
		dir          string
		file         string
		want         func(ws string, c *Config)
		wantWarnings []string
	}{
		{"full", ".devcontainer/devcontainer.json", func(ws string, c *Config) {
			// Paths are relative to the devcontainer.json's folder.
			c.Base = ""
			c.Build = &Build{
				Dockerfile: filepath.Join(ws, ".devcontainer/Dockerfile"),
				Context:    ws,
				Args:       map[string]string{"NODE_VERSION": "22"},
			}
			c.Env = map[string]string{"TOKEN": "s3cret", "MODE": "dev"}
			c.Setup = `pip install -e '.[dev]'`
			c.Backend.Resources = Resources{
				Requests: ResourceList{CPU: resource.MustParse("2"), Memory: resource.MustParse("8Gi")},
				Limits:   ResourceList{CPU: resource.MustParse("2"), Memory: resource.MustParse("8Gi")},
			}
			c.Packages = []string{"make"}
			c.Network = Network{AllowedDomains: []string{".npmjs.org"}, AllowedDomainsSet: true, ExtendDefaults: true}
			c.Session.IdleTimeout = 3600e9
		}, []string{
			full + `:13:3: ignoring "mounts": it would mount host paths into the container`,
			full + `:14:3: ignoring "runArgs": it would pass arbitrary flags to the container runtime`,
			full + `:15:3: ignoring "privileged": it would run the container privileged`,
			full + `:16:3: ignoring "capAdd": it would add Linux capabilities`,
			full + `:17:3: ignoring "securityOpt": it would change the container's security options`,
			full + `:18:3: ignoring "init": paude runs its own init`,
			full + `:19:3: ignoring "forwardPorts": it would publish container ports`,
			full + `:20:3: ignoring "appPort": it would publish container ports`,
			full + `:21:3: ignoring "remoteUser": paude runs the agent as its own unprivileged user`,
			full + `:22:3: ignoring "initializeCommand": it would run a command on the host`,
			full + `:23:3: ignoring "features": paude does not install devcontainer features; list Debian packages in customizations.paude.packages or use build`,
		}},
		{"commands", ".devcontainer.json", func(ws string, c *Config) {
			c.Base = "mcr.microsoft.com/devcontainers/base:bookworm"
			// Named commands run one after another, sorted by name.
			c.Setup = "(echo 'it'\\''s ready'\n) && (npm ci && npm run build\n)"
		}, nil},
		{"legacy", ".devcontainer/devcontainer.json", func(ws string, c *Config) {
			c.Base = ""
			c.Build = &Build{Dockerfile: filepath.Join(ws, "docker/Dockerfile"), Context: filepath.Join(ws, "docker")}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join("testdata/devcontainer", tt.dir)
			ws := mustAbs(t, dir)
			got, err := Loader{LookupEnv: fakeEnv}.Load(dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Defaults(ws)
			want.Path, want.Kind = filepath.Join(ws, tt.file), KindDevcontainer
			tt.want(ws, want)
			want.Warnings = tt.wantWarnings
			if !reflect.DeepEqual(public(got), *want) {
				t.Errorf("Load(%s):\n got: %+v\nwant: %+v", dir, public(got), *want)
			}
		})
	}
}

func TestLoadDevcontainerErrors(t *testing.T) {
	escape := mustAbs(t, "testdata/devcontainer")
	tests := []struct {
		dir  string
		want []string // without the path of the file
	}{
		{"conflict", []string{`:2:12: image: set either image or build, not both`}},
		{"escape", []string{`:2:52: build.context: "` + escape + `" is outside the workspace: keep build files inside the project`}},
		{"host-requirements", []string{
			`:2:32: hostRequirements.cpus: 1.5 is not a CPU count: use a whole number of at least 1`,
			`:2:47: hostRequirements.memory: "8 GB" is not a memory size: use a positive whole number with an optional tb, gb, mb or kb unit, e.g. "8gb"`,
			`:3:24: postCreateCommand: expected a string, an array of strings or an object, got a number`,
			`:4:20: containerEnv.1BAD: "1BAD" is not a variable name: use letters, digits and '_', not starting with a digit`,
		}},
		// customizations.paude comes last and wins; the check then finds
		// hostRequirements' request above the lowered limit.
		{"override", []string{
			`:2:32: hostRequirements.cpus: the cpu request "8" is greater than the cpu limit "4": lower the request or raise the limit`}},
		// customizations.paude is as strict as paude.json: even
		// isolation-weakening keys are errors there, not warnings.
		{"strict-paude", []string{
			`:5:7: unknown key "pacakges" in customizations.paude (valid keys: $schema, agent, backend, base, build, env, image, network, packages, pip_install, session, setup, sync, venv)`,
			`:6:7: unknown key "mounts" in customizations.paude (valid keys: $schema, agent, backend, base, build, env, image, network, packages, pip_install, session, setup, sync, venv)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join("testdata/devcontainer", tt.dir)
			_, err := Load(dir)
			file := filepath.Join(dir, ".devcontainer/devcontainer.json")
			want := file + strings.Join(tt.want, "\n"+file)
			if err == nil || err.Error() != want {
				t.Errorf("Load(%s) error:\n got: %v\nwant: %s", dir, err, want)
			}
		})
	}
}

// TestBuildSymlinkEscape tries to pull host files into the image through
// symbolic links inside the workspace.
func TestBuildSymlinkEscape(t *testing.T) {
	outside := writeFiles(t, map[string]string{"Dockerfile": "FROM scratch\n", "secrets/id_rsa": "key"})
	tests := []struct {
		name, build, link, target, want string
	}{
		{"dockerfile", `{"dockerfile": "Dockerfile"}`, "Dockerfile", "Dockerfile",
			`:1:26: build.dockerfile: "%s/.devcontainer/Dockerfile" leads outside the workspace through a symbolic link: keep build files inside the project`},
		{"context", `{"dockerfile": "real", "context": "ctx"}`, "ctx", "secrets",
			`:1:45: build.context: "%s/.devcontainer/ctx" leads outside the workspace through a symbolic link: keep build files inside the project`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := writeFiles(t, map[string]string{
				".devcontainer/devcontainer.json": `{"build": ` + tt.build + `}`,
				".devcontainer/real":              "FROM scratch\n",
			})
			if err := os.Symlink(filepath.Join(outside, tt.target), filepath.Join(ws, ".devcontainer", tt.link)); err != nil {
				t.Fatal(err)
			}
			_, err := Load(ws)
			file := filepath.Join(ws, ".devcontainer/devcontainer.json")
			want := file + strings.Replace(tt.want, "%s", ws, 1)
			if err == nil || err.Error() != want {
				t.Errorf("Load error:\n got: %v\nwant: %s", err, want)
			}
		})
	}
}

func TestHostRequirementsMemory(t *testing.T) {
	tests := map[string]string{"8gb": "8Gi", "512mb": "512Mi", "1TB": "1Ti", "64kb": "64Ki", "1073741824": "1073741824", "08gb": "8Gi"}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			ws := writeFiles(t, map[string]string{".devcontainer.json": `{"hostRequirements": {"memory": "` + in + `"},
				"customizations": {"paude": {"backend": {"resources": {"limits": {"memory": "2Ti"}}}}}}`})
			cfg, err := Load(ws)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Backend.Resources.Requests.Memory.String(); got != want {
				t.Errorf("memory %q became %q, want %q", in, got, want)
			}
		})
	}
}

func TestShellJoin(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"npm", "ci"}, "npm ci"},
		{[]string{"echo", "a b", ""}, "echo 'a b' ''"},
		{[]string{"sh", "-c", "echo $HOME; rm -rf /"}, `sh -c 'echo $HOME; rm -rf /'`},
		{[]string{"echo", "it's"}, `echo 'it'\''s'`},
		{[]string{"printf", "a\nb"}, "printf 'a\nb'"},
	}
	for _, tt := range tests {
		if got := shellJoin(tt.argv); got != tt.want {
			t.Errorf("shellJoin(%q) = %q, want %q", tt.argv, got, tt.want)
		}
	}
}
