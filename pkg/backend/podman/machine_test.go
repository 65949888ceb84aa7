package podman

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
)

// machineData reads a file of testdata/machine, with @CONFIGDIR@ replaced.
func machineData(t *testing.T, name, configDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "machine", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "@CONFIGDIR@", configDir)
}

// machineConfigDir is a machine's configuration directory holding
// podman-machine-default.json, its mounts replaced when mounts is not nil.
func machineConfigDir(t *testing.T, mounts []machineMount) string {
	t.Helper()
	dir := t.TempDir()
	data := machineData(t, "podman-machine-default.json", dir)
	if mounts != nil {
		var cfg map[string]any
		if err := json.Unmarshal([]byte(data), &cfg); err != nil {
			t.Fatal(err)
		}
		cfg["Mounts"] = mounts
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		data = string(b)
	}
	if err := os.WriteFile(filepath.Join(dir, "podman-machine-default.json"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// macDefaults are podman's default shares on macOS.
var macDefaults = []machineMount{
	{Source: "/Users", Target: "/Users"},
	{Source: "/private", Target: "/private"},
	{Source: "/var/folders", Target: "/var/folders"},
}

const (
	connList    = "system connection list --format json"
	machineList = "machine list --format json"
	inspectMac  = "machine inspect podman-machine-default"
)

// macRules answer the three questions about the machine as podman on a
// Mac does, with the given `podman machine inspect` output.
func macRules(t *testing.T, inspect string) func(f *fakeRunner, configDir string) {
	return func(f *fakeRunner, dir string) {
		f.on(connList, machineData(t, "connections.json", dir), nil)
		f.on(machineList, machineData(t, "machines.json", dir), nil)
		f.on(inspectMac, machineData(t, inspect, dir), nil)
	}
}

func TestDetectMachine(t *testing.T) {
	tests := []struct {
		name      string
		goos      string
		env       map[string]string
		rules     func(f *fakeRunner, configDir string)
		want      *podmanMachine
		wantErr   string
		wantCalls []string
	}{
		{name: "macOS: the machine of the default connection and its shares", goos: "darwin",
			rules:     macRules(t, "inspect.json"),
			want:      &podmanMachine{Name: "podman-machine-default", Mounts: macDefaults},
			wantCalls: []string{connList, machineList, inspectMac}},
		{name: "podman 4 names the configuration file itself", goos: "darwin",
			rules:     macRules(t, "inspect-v4.json"),
			want:      &podmanMachine{Name: "podman-machine-default", Mounts: macDefaults},
			wantCalls: []string{connList, machineList, inspectMac}},
		{name: "CONTAINER_CONNECTION picks the rootful connection of the same machine", goos: "darwin",
			env:       map[string]string{"CONTAINER_CONNECTION": "podman-machine-default-root"},
			rules:     macRules(t, "inspect.json"),
			want:      &podmanMachine{Name: "podman-machine-default", Mounts: macDefaults},
			wantCalls: []string{connList, machineList, inspectMac}},
		{name: "a connection to another computer is no machine", goos: "darwin",
			env: map[string]string{"CONTAINER_CONNECTION": "buildserver"},
			rules: func(f *fakeRunner, dir string) {
				f.on(connList, machineData(t, "connections.json", dir), nil)
			},
			wantCalls: []string{connList}},
		{name: "a local port no machine listens on", goos: "darwin",
			rules: func(f *fakeRunner, dir string) {
				f.on(connList, machineData(t, "connections.json", dir), nil)
				f.on(machineList, "[]", nil)
			},
			wantCalls: []string{connList, machineList}},
		{name: "no connection: podman is local", goos: "darwin",
			rules:     func(f *fakeRunner, _ string) { f.on(connList, "[]", nil) },
			wantCalls: []string{connList}},
		{name: "CONTAINER_HOST names no machine paude can look into", goos: "darwin",
			env: map[string]string{"CONTAINER_HOST": "ssh://core@127.0.0.1:53298/run/user/501/podman/podman.sock"}},
		{name: "podman on Linux is asked nothing", goos: "linux"},
		{name: "a failing podman: paude cannot tell", goos: "darwin",
			rules: func(f *fakeRunner, dir string) {
				f.on(connList, machineData(t, "connections.json", dir), nil)
				f.on(machineList, "", fail(125, "Error: cannot list machines"))
			},
			wantErr: "cannot list machines", wantCalls: []string{connList, machineList}},
		{name: "a configuration file that is gone", goos: "darwin",
			rules: func(f *fakeRunner, _ string) {
				f.on(connList, machineData(t, "connections.json", ""), nil)
				f.on(machineList, machineData(t, "machines.json", ""), nil)
				f.on(inspectMac, machineData(t, "inspect.json", "/nonexistent"), nil)
			},
			wantErr: "failed to read the configuration of podman machine podman-machine-default", wantCalls: []string{connList, machineList, inspectMac}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if tt.rules != nil {
				tt.rules(f, machineConfigDir(t, nil))
			}
			b := newTestBackend(t, f, Options{Getenv: func(k string) string { return tt.env[k] }})
			b.goos = tt.goos
			got, err := b.detectMachine()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				b.machine = func() (*podmanMachine, error) { return got, err }
				if err := b.checkMachineShares([]hostPathUse{{What: "workspace", Path: "/Volumes/x"}}); err != nil {
					t.Errorf("a machine paude cannot see refused the start: %v", err)
				}
			} else if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("machine = %+v, %v; want %+v", got, err, tt.want)
			}
			diffCalls(t, f.Calls(), tt.wantCalls)
		})
	}
}

func TestMachineCheck(t *testing.T) {
	withShares := func(extra ...machineMount) *podmanMachine {
		return &podmanMachine{Name: "podman-machine-default", Mounts: append(append([]machineMount{}, macDefaults...), extra...)}
	}
	ws := func(p string) hostPathUse {
		return hostPathUse{What: "workspace", Path: p, Write: true, Move: "move the project below one of those directories"}
	}
	state := func(p string) hostPathUse {
		return hostPathUse{What: "paude's state directory", Path: p, Move: "set XDG_STATE_HOME to a directory below one of those"}
	}
	tests := []struct {
		name    string
		m       *podmanMachine
		use     hostPathUse
		wantErr string
	}{
		{"a project in the home directory", withShares(), ws("/Users/me/src/proj"), ""},
		{"a shared directory itself", withShares(), ws("/Users"), ""},
		{"a temporary directory, by its real name", withShares(), ws("/private/var/folders/9r/n3056v597wv2cq8s2j80bdnw0000gn/T/proj"), ""},
		{"/private/tmp", withShares(), ws("/private/tmp/proj"), ""},
		{"an external volume",
			withShares(), ws("/Volumes/Work/proj"),
			`workspace /Volumes/Work/proj is not shared with podman machine "podman-machine-default" (it shares /Users, /private, /var/folders), so its containers cannot mount it: ` +
				`move the project below one of those directories, or create the machine again with it shared, as podman adds shares only then: ` +
				`'podman machine rm podman-machine-default' (this deletes its containers and images), then ` +
				`'podman machine init -v /Users:/Users -v /private:/private -v /var/folders:/var/folders -v /Volumes/Work/proj:/Volumes/Work/proj' (see docs/PODMAN.md, macOS)`},
		{"a name that only starts like a share", withShares(), ws("/Users2/proj"), "is not shared with podman machine"},
		{"shared at another path in the machine",
			withShares(machineMount{Source: "/Volumes/Data", Target: "/data"}), ws("/Volumes/Data/proj"),
			`workspace /Volumes/Data/proj is shared with podman machine "podman-machine-default" only as /data/proj (it shares /Users, /private, /var/folders, /Volumes/Data (as /data)), ` +
				`and podman mounts it by its path on this computer: move the project below one of those directories, or create the machine again`},
		{"shared read-only, and the agent writes the workspace",
			withShares(machineMount{Source: "/Volumes/Ro", Target: "/Volumes/Ro", ReadOnly: true}), ws("/Volumes/Ro/proj"),
			`workspace /Volumes/Ro/proj is shared read-only with podman machine "podman-machine-default" (it shares /Users, /private, /var/folders, /Volumes/Ro (read-only)), and the agent writes it`},
		{"a read-only share is enough for the state directory",
			withShares(machineMount{Source: "/Volumes/Ro", Target: "/Volumes/Ro", ReadOnly: true}), state("/Volumes/Ro/state/paude/podman"), ""},
		{"the state directory outside the shares",
			&podmanMachine{Name: "dev", Mounts: macDefaults[:1]}, state("/opt/state/paude/podman"),
			`paude's state directory /opt/state/paude/podman is not shared with podman machine "dev" (it shares /Users), so its containers cannot mount it: ` +
				`set XDG_STATE_HOME to a directory below one of those, or create the machine again with it shared, as podman adds shares only then: ` +
				`'podman machine rm dev' (this deletes its containers and images), then 'podman machine init -v /Users:/Users -v /opt/state/paude/podman:/opt/state/paude/podman dev' (see docs/PODMAN.md, macOS)`},
		{"a machine that shares nothing", &podmanMachine{Name: "bare"}, ws("/Users/me/proj"), "(it shares no directory)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.check([]hostPathUse{tt.use})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr == "":
			case err == nil || !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("err = %v\nwant %s", err, tt.wantErr)
			}
		})
	}
}

// TestStartRefusesWhatTheMachineDoesNotShare plays a Mac: the start asks
// which machine podman talks to and refuses, before it creates anything,
// a workspace or state directory the machine does not share.
func TestStartRefusesWhatTheMachineDoesNotShare(t *testing.T) {
	root := t.TempDir()
	shared, elsewhere := filepath.Join(root, "shared"), filepath.Join(root, "elsewhere")
	tests := []struct {
		name, ws, state, wantErr string
	}{
		{"a workspace outside the shares", filepath.Join(elsewhere, "proj"), filepath.Join(shared, "state"), "workspace " + filepath.Join(elsewhere, "proj") + " is not shared"},
		{"a state directory outside the shares", filepath.Join(shared, "proj"), filepath.Join(elsewhere, "state"), "paude's state directory " + filepath.Join(elsewhere, "state") + " is not shared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.MkdirAll(tt.ws, 0o755); err != nil {
				t.Fatal(err)
			}
			f := newFake(t)
			macRules(t, "inspect.json")(f, machineConfigDir(t, []machineMount{{Source: shared, Target: shared}}))
			b := newTestBackend(t, f, Options{Getenv: apiKeyEnv, StateDir: tt.state})
			b.goos = "darwin"
			_, err := b.StartSession(context.Background(), backend.SessionSpec{Config: config.Defaults(tt.ws), Workspace: tt.ws})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			diffCalls(t, f.Calls(), []string{connList, machineList, inspectMac})
			if _, err := os.Stat(tt.state); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the refused start made its state directory: %v", err)
			}
		})
	}
}

func TestHostPathUses(t *testing.T) {
	plain, worktree := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(worktree, ".git"), []byte("gitdir: /elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		ws           string
		allowNetwork bool
		want         []string
	}{
		{"behind the proxy: the workspace and the squid.conf's directory", plain, false, []string{"workspace", "paude's state directory"}},
		{"--allow-network mounts only the workspace", plain, true, []string{"workspace"}},
		{"a linked worktree's .git file comes from the state directory", worktree, true, []string{"workspace", "paude's state directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBackend(t, newFake(t), Options{})
			var got []string
			for _, u := range b.hostPathUses(backend.SessionSpec{AllowNetwork: tt.allowNetwork}, tt.ws) {
				got = append(got, u.What)
				if u.What == "workspace" && (!u.Write || u.Path != tt.ws) {
					t.Errorf("workspace use = %+v", u)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("uses = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestStateDirRealName: the state directory's files are bind-mounted, so
// the backend knows it by its real name, the one podman's machine has
// (/private/tmp/x on a Mac, where /tmp/x in the machine is another
// directory).
func TestStateDirRealName(t *testing.T) {
	real := filepath.Join(t.TempDir(), "state")
	link := filepath.Join(t.TempDir(), "tmp")
	if err := os.Symlink(filepath.Dir(real), link); err != nil {
		t.Fatal(err)
	}
	b := newTestBackend(t, newFake(t), Options{StateDir: filepath.Join(link, "state")})
	if b.opts.StateDir != real {
		t.Fatalf("state directory = %q, want %q", b.opts.StateDir, real)
	}
}
