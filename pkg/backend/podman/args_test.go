package podman

import (
	"reflect"

	"strings"
	"testing"
	"time"

	"github.com/paude-dev/paude/pkg/backend"
)

func TestArgs(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		got  []string
		want string
	}{
		{"info", infoArgs(), "info --format {{.Host.Security.Rootless}} {{.Host.CPUs}}"},
		{"network create", networkCreateArgs("1-a"),
			"network create --internal --disable-dns --label app=paude --label paude.io/role=network --label paude.io/session-id=1-a paude-net-1-a"},
		{"network rm", networkRemoveArgs("paude-net-1-a", "paude-internal"), "network rm paude-net-1-a paude-internal"},
		{"network connect", networkConnectArgs("paude-net-1-a", "paude-proxy-h"), "network connect paude-net-1-a paude-proxy-h"},
		{"network disconnect", networkDisconnectArgs("paude-net-1-a", "paude-proxy-h"), "network disconnect paude-net-1-a paude-proxy-h"},
		{"network list", listNetworksArgs(), "network ls --filter label=app=paude --format json"},
		{"git volume", volumeCreateArgs(gitVolumeSpec("1-a", "/w")),
			"volume create --label app=paude --label paude.io/role=git --label paude.io/session-id=1-a --label paude.io/workspace=/w paude-git-1-a"},
		{"one-shot", oneShotArgs(oneShotSpec{Image: "img", User: "1000:0", KeepID: true, PullPolicy: "never", Workdir: "/w",
			Mounts: []mount{{Source: "/w", Target: "/w", ReadOnly: true}, {Source: "paude-git-1-a", Target: "/w/.git", Volume: true}}},
			[]string{"git", "upload-pack", "--strict", "/w/.git"}),
			"run --rm -i --network none --cap-drop ALL --security-opt no-new-privileges --label app=paude --label paude.io/role=git" +
				" --userns keep-id --user 1000:0 --pull never -v /w:/w:ro -v paude-git-1-a:/w/.git:U -w /w --entrypoint git img upload-pack --strict /w/.git"},
		{"inspect", inspectArgs("paude-1-a"), "container inspect --format json paude-1-a"},
		{"list agents", listArgs(backend.RoleAgent),
			"ps -a --filter label=app=paude --filter label=paude.io/role=agent --format json"},
		{"remove", removeArgs("a", "b"), "rm --force --ignore --volumes --time 10 a b"},
		{"volume create", volumeCreateArgs(volumeSpec{Name: "paude-state-x", Role: backend.RoleState, Workspace: "/w"}),
			"volume create --label app=paude --label paude.io/role=state --label paude.io/workspace=/w paude-state-x"},
		{"home copy", homeCopyArgs("paude-1-a"), "cp - paude-1-a:/home/paude"},
		{"status", statusArgs("paude-1-a"), "exec paude-1-a /usr/local/bin/paude-entrypoint status"},
		{"attach", attachArgs("paude-1-a", "screen-256color"),
			"exec -it -e TERM=screen-256color paude-1-a /usr/local/bin/paude-entrypoint attach"},
		{"attach without TERM", attachArgs("paude-1-a", ""), "exec -it paude-1-a /usr/local/bin/paude-entrypoint attach"},
		{"capture", captureArgs("paude-1-a"), "exec paude-1-a tmux capture-pane -p -t =claude:"},
		{"proxy probe", proxyProbeArgs("paude-proxy-h"), "exec paude-proxy-h bash -c exec 3<>/dev/tcp/127.0.0.1/3128"},
		{"agent proxied", createAgentArgs(agentSpec{
			ID: "1767323045-deadbeef", Workspace: "/src/p", Image: "paude-workspace:abc", CreatedAt: created,
			User: "1000:0", Network: "paude-net-1767323045-deadbeef", ProxyIP: "203.0.113.66", ProxyHash: "h", GitDir: "/src/p/.git",
			Env:        map[string]string{"B": "2", "A": "1"},
			Mounts:     []mount{{Source: "/src/p", Target: "/src/p"}, {Source: "v", Target: "/s", Volume: true}, {Source: "/h/.gitconfig", Target: "/home/paude/.gitconfig", ReadOnly: true}},
			Limits:     limits{Pids: 4096, MemoryBytes: 8 << 30, MemoryReservation: 4 << 30, CPUs: "2", CPUShares: 1024},
			PullPolicy: "never", AgentArgs: []string{"--model", "opus"},
		}), "create --name paude-1767323045-deadbeef --hostname paude-1767323045-deadbeef" +
			" --label app=paude --label paude.io/created-at=2026-01-02T03:04:05Z --label paude.io/git-dir=/src/p/.git --label paude.io/network=proxy" +
			" --label paude.io/proxy-config=h --label paude.io/role=agent --label paude.io/session-id=1767323045-deadbeef --label paude.io/workspace=/src/p" +
			" --cap-drop ALL --security-opt no-new-privileges --stop-timeout 10 --user 1000:0" +
			" --pids-limit 4096 --memory 8589934592 --memory-reservation 4294967296 --cpus 2 --cpu-shares 1024" +
			" --pull never --network paude-net-1767323045-deadbeef --dns none --add-host paude-proxy:203.0.113.66 --http-proxy=false" +
			" --sysctl net.ipv6.conf.all.disable_ipv6=1 --sysctl net.ipv6.conf.default.disable_ipv6=1" +
			" -e A=1 -e B=2 -v /src/p:/src/p -v v:/s:U -v /h/.gitconfig:/home/paude/.gitconfig:ro" +
			" -w /src/p paude-workspace:abc -- --model opus"},
		{"agent open network rootless", createAgentArgs(agentSpec{
			ID: "1-a", Workspace: "/w", Image: "img", CreatedAt: created, User: "501:0", KeepID: true, Network: "podman",
		}), "create --name paude-1-a --hostname paude-1-a" +
			" --label app=paude --label paude.io/created-at=2026-01-02T03:04:05Z --label paude.io/network=open" +
			" --label paude.io/role=agent --label paude.io/session-id=1-a --label paude.io/workspace=/w" +
			" --cap-drop ALL --security-opt no-new-privileges --stop-timeout 10 --userns keep-id --user 501:0" +
			" --network podman -w /w img --"},
		{"proxy", runProxyArgs(proxySpec{Image: "paude-proxy:abc", ConfFile: "/st/proxy/squid-h.conf", ConfigHash: "h",
			ExternalNetwork: "podman", Hosts: map[string]string{"b.test": "198.51.100.2", "a.test": "198.51.100.3"},
			DNS: []string{"127.0.0.1"}, PullPolicy: "never"}, "paude-net-1-a"),
			"run --detach --name paude-proxy-h --hostname paude-proxy --label app=paude --label paude.io/proxy-config=h" +
				" --label paude.io/role=proxy --cap-drop ALL --security-opt no-new-privileges --pids-limit 1024 --stop-timeout 5" +
				" --pull never --network paude-net-1-a --network podman --add-host a.test:198.51.100.3 --add-host b.test:198.51.100.2" +
				" --dns 127.0.0.1 -v /st/proxy/squid-h.conf:/etc/paude-proxy/squid.conf:ro paude-proxy:abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(tt.got, " "); got != tt.want {
				t.Errorf("argv mismatch\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

// TestArgsKeepValuesWhole checks that values with spaces stay one argv
// element: nothing is split or quoted by a shell.
func TestArgsKeepValuesWhole(t *testing.T) {
	got := createAgentArgs(agentSpec{ID: "1-a", Workspace: "/w", Image: "img", Network: "podman",
		Env: map[string]string{"PAUDE_SETUP": "npm ci && make"}, AgentArgs: []string{"fix the bug"}})
	wantEnv, wantArg := "PAUDE_SETUP=npm ci && make", "fix the bug"
	var env, arg bool
	for i, a := range got {
		if a == wantEnv && got[i-1] == "-e" {
			env = true
		}
		if a == wantArg && i == len(got)-1 {
			arg = true
		}
	}
	if !env || !arg {
		t.Errorf("values were split: %q", got)
	}
}

func TestNames(t *testing.T) {
	for got, want := range map[string]string{containerName("1-a"): "paude-1-a", proxyName("h"): "paude-proxy-h",
		sessionNetwork("1-a"): "paude-net-1-a", gitVolume("1-a"): "paude-git-1-a"} {
		if got != want {
			t.Errorf("name %q, want %q", got, want)
		}
	}
	a, b := stateVolume("/src/p"), stateVolume("/src/p/")
	if a != b || !strings.HasPrefix(a, "paude-state-") || len(a) != len("paude-state-")+12 {
		t.Errorf("stateVolume: %q vs %q", a, b)
	}
	if stateVolume("/src/q") == a {
		t.Error("two workspaces share a state volume")
	}
	v1, v2 := venvVolume("/src/p", ".venv"), venvVolume("/src/p", "venv")
	if v1 == v2 || !reflect.DeepEqual(v1, venvVolume("/src/p", "./.venv")) {
		t.Errorf("venvVolume: %q %q", v1, v2)
	}
}
