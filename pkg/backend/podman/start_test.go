package podman

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/podmancli"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/start")

// seedScriptRe matches gitboundary's seed script on a command line.
var seedScriptRe = regexp.MustCompile(`(?s)-c set -eu\n.*?\n paude-seed `)

// buildDirRe matches the temporary build context directories.
var buildDirRe = regexp.MustCompile(`\S*/paude-build-[0-9]+`)

// startCase is one StartSession scenario: the fake podman's answers and
// the golden file of the exact commands it must receive.
type startCase struct {
	name    string
	golden  string
	opts    func(*backend.SessionSpec)
	cfg     func(*config.Config)
	backend func(*Options)
	// rules are added before the defaults, so they win.
	rules func(f *fakeRunner, v startVars)
	home  []string
	// repo makes the workspace a git repository with one commit; with
	// worktree, the workspace is a linked worktree of one elsewhere.
	repo, worktree bool
	// ws are more files in the workspace, committed with repo;
	// gitConfig are `git config` pairs for its repository.
	ws        []string
	gitConfig [][]string
	// link gives the start the workspace through a symlink, as macOS's
	// /tmp and /var are.
	link    bool
	wantErr string
}

// startVars are the values the golden files spell as $NAME.
type startVars struct {
	ws, home, state, agentImage, proxyImage, proxyHash, userImage, main string
}

func (v startVars) replacer() *strings.Replacer {
	pairs := []string{v.proxyHash, "$PROXY_HASH"}
	if v.userImage != "" {
		pairs = append(pairs, v.userImage, "$USER_IMAGE")
	}
	if v.main != "" {
		pairs = append(pairs, v.main, "$MAIN_REPO")
	}
	return strings.NewReplacer(append(pairs,
		v.agentImage, "$AGENT_IMAGE", v.proxyImage, "$PROXY_IMAGE",
		v.state, "$STATE", v.home, "$HOME", v.ws, "$WS",
		stateVolume(v.ws), "$STATE_VOLUME", venvVolume(v.ws, ".venv"), "$VENV_VOLUME")...,
	)
}

func TestStartSession(t *testing.T) {
	const id = "1767323045-deadbeef"
	proxy := func(v startVars) string { return "container inspect --format json paude-proxy-" + v.proxyHash }
	// running is a running proxy with this start's configuration, already
	// on the session's network once connected.
	running := func(f *fakeRunner, v startVars) {
		f.on(proxy(v), inspectJSON("paude-proxy-"+v.proxyHash, "running", 0,
			map[string]string{"app": "paude", "paude.io/role": "proxy", "paude.io/proxy-config": v.proxyHash},
			map[string]string{"paude-net-" + id: "10.89.1.2", "podman": "203.0.113.5"}), nil)
	}
	none := func(f *fakeRunner, v startVars) {
		f.on(proxy(v), "", fail(125, "Error: no such container paude-proxy-"+v.proxyHash)).times = 1
	}
	tests := []startCase{
		{name: "first start creates the network and the proxy and the volumes", golden: "first.txt",
			home: []string{".claude/settings.json", ".claude.json", ".gitconfig", ".config/gcloud/application_default_credentials.json",
				".config/gcloud/credentials.db", ".claude/projects/other/transcript.jsonl"},
			rules: func(f *fakeRunner, v startVars) {
				none(f, v)
				running(f, v)
			}},
		{name: "a later start joins the running proxy of its allowlist", golden: "reuse.txt",
			cfg: func(c *config.Config) {
				c.Setup = "make deps"
				c.Env = map[string]string{"FOO": "bar"}
				c.Venv = config.Venv{Mode: config.VenvAuto}
			},
			opts: func(o *backend.SessionSpec) {
				o.Yolo = true
				o.AgentArgs = []string{"--model", "opus"}
			},
			backend: func(o *Options) {
				o.Getenv = func(k string) string {
					return map[string]string{"CLOUD_ML_REGION": "us-east5", "CLAUDE_CODE_USE_VERTEX": "1", "GOOGLE_CLOUD_PROJECT": "proj",
						"ANTHROPIC_API_KEY": "not for vertex"}[k]
				}
			},
			home:  []string{".config/gcloud/application_default_credentials.json"},
			rules: running},
		{name: "a workspace given through a symlink is mounted and labelled by its real name", golden: "symlink.txt",
			link: true, repo: true, rules: running},
		{name: "a stopped proxy joins the network and starts again", golden: "restart-proxy.txt",
			rules: func(f *fakeRunner, v startVars) {
				f.on(proxy(v), inspectJSON("paude-proxy-"+v.proxyHash, "exited", 0,
					map[string]string{"app": "paude", "paude.io/role": "proxy", "paude.io/proxy-config": v.proxyHash}, nil), nil).times = 1
				running(f, v)
			}},
		{name: "a proxy another start just created is shared", golden: "race.txt",
			rules: func(f *fakeRunner, v startVars) {
				none(f, v)
				f.on("run --detach --name paude-proxy-", "", fail(125, `Error: creating container storage: the container name "paude-proxy-x" is already in use`))
				running(f, v)
				f.on("volume create", "", fail(125, "Error: volume with name x already exists"))
			}},
		{name: "allow-network builds the agent image only and makes no network", golden: "open.txt",
			opts: func(o *backend.SessionSpec) { o.AllowNetwork = true },
			rules: func(f *fakeRunner, v startVars) {
				f.on("image exists "+v.agentImage, "", fail(1, ""))
			}},
		{name: "rebuild builds both images without cache", golden: "rebuild.txt",
			opts:  func(o *backend.SessionSpec) { o.Rebuild = true },
			rules: running},
		{name: "a user Dockerfile is built first", golden: "userbuild.txt",
			cfg: func(c *config.Config) {
				c.Base = ""
				c.Build = &config.Build{Dockerfile: filepath.Join(c.Workspace, "Dockerfile"), Context: c.Workspace,
					Args: map[string]string{"VERSION": "1.2", "A": "x"}}
			},
			rules: func(f *fakeRunner, v startVars) {
				running(f, v)
				f.on("image exists "+v.agentImage, "", fail(1, ""))
			}},
		{name: "a repository gets its own in a volume seeded before the agent starts", golden: "git.txt",
			repo: true, rules: running},
		{name: "a linked worktree gets its own repository and a .git file naming it", golden: "git-worktree.txt",
			repo: true, worktree: true, rules: running},
		{name: "what the host's git runs from the workspace is mounted read-only", golden: "readonly.txt",
			repo: true, ws: []string{"vendor/lib/.git/HEAD", ".husky/pre-commit", ".pre-commit-config.yaml"},
			gitConfig: [][]string{{"core.hooksPath", ".husky"}}, rules: running},
		{name: "a failed build creates nothing", golden: "build-failed.txt",
			rules: func(f *fakeRunner, v startVars) {
				none(f, v)
				f.on("image exists "+v.agentImage, "", fail(1, ""))
				r := f.on("build ", "", fail(100, ""))
				r.stream = "STEP 2/6: RUN apt-get install nope\nError: building at STEP \"RUN apt-get install nope\": while running runtime: exit status 100\n"
				// Only buildah's working container from this build is
				// removed: not an older one, not a real container.
				f.on("ps --all --external --format json", `[
					{"Id":"aaa","Names":["base-working-container"],"State":"storage","Command":["buildah"],"Created":1767323046},
					{"Id":"bbb","Names":["old-working-container"],"State":"storage","Command":["buildah"],"Created":1767320000},
					{"Id":"ccc","Names":["paude-proxy-0ld"],"State":"running","Command":["squid"],"Created":1767323047}]`, nil)
				f.on("rm --force aaa", "", nil)
			},
			wantErr: `failed to build image $AGENT_IMAGE: step "RUN apt-get install nope" failed: while running runtime: exit status 100: fix that step (or the configuration that produced it) and start again`},
		{name: "a failed start removes everything it created", golden: "start-failed.txt",
			repo: true,
			rules: func(f *fakeRunner, v startVars) {
				none(f, v)
				running(f, v)
				f.on("start paude-", "", fail(126, "Error: OCI runtime error: permission denied"))
			},
			wantErr: "failed to start the session container: podman start paude-1767323045-deadbeef exited with code 126: Error: OCI runtime error: permission denied"},
		{name: "a failed start leaves a shared proxy but takes it off the network", golden: "start-failed-shared.txt",
			rules: func(f *fakeRunner, v startVars) {
				running(f, v)
				f.on("create ", "", fail(125, "Error: no space left on device"))
			},
			wantErr: "failed to create the session container: podman create exited with code 125: Error: no space left on device"},
		{name: "an agent that dies during start is reported with its output", golden: "agent-died.txt",
			rules: func(f *fakeRunner, v startVars) {
				running(f, v)
				f.on("exec paude-"+id+" /usr/local/bin/paude-entrypoint status", "", fail(125, "Error: container is not running"))
				f.on("container inspect --format json paude-"+id, inspectJSON("paude-"+id, "exited", 1, nil, nil), nil)
				f.on("logs --tail 20 paude-"+id, "paude-entrypoint: tmux is not installed in this image\x1b]52;c;ZXZpbA==\x07\n", nil)
			},
			wantErr: "the session container stopped during start: its last output was:\npaude-entrypoint: tmux is not installed in this image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runStartCase(t, tt)
		})
	}
}

func runStartCase(t *testing.T, tt startCase) {
	ws := t.TempDir()
	main := ""
	if tt.worktree {
		main = t.TempDir()
		initRepo(t, main)
		if err := os.Remove(ws); err != nil {
			t.Fatal(err)
		}
		gitIn(t, main, "worktree", "add", "-q", "-b", "work", ws)
	}
	mkTree(t, ws, ".venv/pyvenv.cfg", "Dockerfile")
	mkTree(t, ws, tt.ws...)
	if tt.repo && !tt.worktree {
		initRepo(t, ws)
	}
	for _, kv := range tt.gitConfig {
		gitIn(t, ws, "config", kv[0], kv[1])
	}
	home, state := t.TempDir(), t.TempDir()
	mkTree(t, home, tt.home...)
	cfg := config.Defaults(ws)
	cfg.Network.AllowedDomains, cfg.Network.AllowedDomainsSet = []string{".example.com"}, true
	if tt.cfg != nil {
		tt.cfg(cfg)
	}
	opts := backend.SessionSpec{Config: cfg, Workspace: ws}
	if tt.link {
		opts.Workspace = filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(ws, opts.Workspace); err != nil {
			t.Fatal(err)
		}
	}
	if tt.opts != nil {
		tt.opts(&opts)
	}
	bopts := Options{HomeDir: home, StateDir: state, User: "1000:0", PullPolicy: "never",
		Getenv: func(k string) string { return map[string]string{"ANTHROPIC_API_KEY": "sk-test-key"}[k] }}
	if tt.backend != nil {
		tt.backend(&bopts)
	}
	v := planVars(t, cfg, ws, home, state)
	v.main = main

	f := newFake(t)
	if tt.rules != nil {
		tt.rules(f, v)
	}
	seed := defaultRules(f)
	var progress bytes.Buffer
	opts.Progress = &progress
	s, err := newTestBackend(t, f, bopts).StartSession(context.Background(), opts)
	r := v.replacer()
	switch {
	case tt.wantErr != "":
		if err == nil || r.Replace(err.Error()) != tt.wantErr {
			t.Fatalf("error = %v\nwant %s", err, tt.wantErr)
		}
	case err != nil:
		t.Fatalf("StartSession: %v\nprogress:\n%s", err, progress.String())
	case s.ID != "1767323045-deadbeef" || s.Workspace != ws || s.Status != backend.StatusRunning:
		t.Errorf("session = %+v", s)
	}
	if tt.repo && tt.wantErr == "" && !bytes.HasPrefix(seed.Bytes(), []byte("# v2 git bundle")) {
		t.Errorf("the seed read %q, not a git bundle", seed.String()[:min(40, seed.Len())])
	}
	if tt.wantErr != "" {
		if _, err := os.Stat(filepath.Join(state, "sessions")); err == nil {
			if left, _ := os.ReadDir(filepath.Join(state, "sessions")); len(left) > 0 {
				t.Errorf("the failed start left its host files: %v", left)
			}
		}
	}
	// The golden file has every call, and under a call that read a tar
	// stream, the stream's entries.
	var got strings.Builder
	for _, c := range canonical(f.Calls(), f.Tars()) {
		line := seedScriptRe.ReplaceAllString(buildDirRe.ReplaceAllString(r.Replace(c.line), "$$BUILD_DIR"), "-c <seed script> paude-seed ")
		got.WriteString(line + "\n")
		for _, line := range c.tar {
			got.WriteString("  | " + r.Replace(line) + "\n")
		}
	}
	golden := filepath.Join("testdata", "start", tt.golden)
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	diffCalls(t, strings.Split(strings.TrimSpace(got.String()), "\n"), strings.Split(strings.TrimSpace(string(want)), "\n"))
}

// apiKeyEnv is a host whose environment selects Anthropic's API with a
// key, so that a Claude session may start.
func apiKeyEnv(k string) string { return map[string]string{"ANTHROPIC_API_KEY": "sk-test-key"}[k] }

func TestStartSessionRejectsBadOptions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	colon := filepath.Join(t.TempDir(), "a:b")
	if err := os.Mkdir(colon, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    backend.SessionSpec
		wantErr string
	}{
		{"no config", backend.SessionSpec{Workspace: "/"}, "no configuration given"},
		{"relative workspace", backend.SessionSpec{Config: config.Defaults("x"), Workspace: "x"}, "is not an absolute path"},
		{"missing workspace", backend.SessionSpec{Config: config.Defaults("/nonexistent/p"), Workspace: "/nonexistent/p"}, "no such file"},
		{"file as workspace", backend.SessionSpec{Config: config.Defaults(file), Workspace: file}, "is not a directory"},
		{"colon in path", backend.SessionSpec{Config: config.Defaults(colon), Workspace: colon}, "contains ':' or ','"},
		{"the root", backend.SessionSpec{Config: config.Defaults("/"), Workspace: "/"}, "it is the root directory"},
		{"the home directory", backend.SessionSpec{Config: config.Defaults(home), Workspace: home}, "it is your home directory"},
		{"above the home directory", backend.SessionSpec{Config: config.Defaults(filepath.Dir(home)), Workspace: filepath.Dir(home)}, "it contains your home directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			_, err := newTestBackend(t, f, Options{Getenv: apiKeyEnv, HomeDir: home}).StartSession(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			diffCalls(t, f.Calls(), nil)
		})
	}
	t.Run("a bad allowlist runs nothing", func(t *testing.T) {
		f := newFake(t)
		ws := t.TempDir()
		cfg := config.Defaults(ws)
		cfg.Network.AllowedDomains, cfg.Network.AllowedDomainsSet = []string{".example.com", "api.example.com"}, true
		_, err := newTestBackend(t, f, Options{Getenv: apiKeyEnv}).StartSession(context.Background(), backend.SessionSpec{Config: cfg, Workspace: ws})
		if err == nil || !strings.Contains(err.Error(), "network.allowedDomains") {
			t.Fatalf("error = %v", err)
		}
		diffCalls(t, f.Calls(), nil)
	})
	t.Run("a provider selected but incomplete runs nothing", func(t *testing.T) {
		f := newFake(t)
		ws := t.TempDir()
		vertex := func(k string) string {
			return map[string]string{"CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "us-east5"}[k]
		}
		_, err := newTestBackend(t, f, Options{Getenv: vertex}).StartSession(context.Background(), backend.SessionSpec{Config: config.Defaults(ws), Workspace: ws})
		if err == nil || !strings.Contains(err.Error(), "ANTHROPIC_VERTEX_PROJECT_ID is not set") {
			t.Fatalf("error = %v", err)
		}
		diffCalls(t, f.Calls(), nil)
	})
	t.Run("podman missing", func(t *testing.T) {
		f := newFake(t)
		f.on("image exists", "", podmancli.ErrPodmanNotFound)
		f.on("container inspect", "", podmancli.ErrPodmanNotFound)
		f.on("network ", "", podmancli.ErrPodmanNotFound)
		ws := t.TempDir()
		_, err := newTestBackend(t, f, Options{Getenv: apiKeyEnv}).StartSession(context.Background(), backend.SessionSpec{Config: config.Defaults(ws), Workspace: ws})
		var u *backend.UnavailableError
		if !errors.As(err, &u) {
			t.Fatalf("error = %v", err)
		}
	})
}
