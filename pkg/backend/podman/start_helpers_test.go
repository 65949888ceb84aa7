package podman

import (
	"bytes"
	"cmp"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/config"
	"github.com/paude-dev/paude/pkg/image"
)

// The helpers of the start tests: the fake's default answers, the values
// the golden files spell as $NAME, repositories, and the order of calls
// a start makes at the same time.

// initRepo makes dir a repository with one commit of everything in it.
func initRepo(t *testing.T, dir string) {
	t.Helper()
	gitIn(t, dir, "init", "-q", "-b", "main")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "--allow-empty", "-m", "init")
}

// gitIn runs host git in dir.
func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
}

// planVars computes the image tags and proxy hash the fake must answer to.
func planVars(t *testing.T, cfg *config.Config, ws, home, state string) startVars {
	t.Helper()
	wp, err := image.WorkspaceRecipe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := image.ProxyRecipe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := image.SquidConf(image.SquidOptions{AllowedDomains: cfg.Network.AllowedDomains, Port: image.ProxyPort})
	if err != nil {
		t.Fatal(err)
	}
	hash := proxyConfigHash(conf, proxySpec{Image: pp.Tag, ExternalNetwork: DefaultExternalNetwork})
	v := startVars{ws: ws, home: home, state: state, agentImage: wp.Tag, proxyImage: pp.Tag, proxyHash: hash}
	if wp.UserBuild != nil {
		v.userImage = wp.UserBuild.Tag
	}
	return v
}

// defaultRules answer what every start asks when a case does not say
// otherwise: podman works, images and objects exist, everything succeeds.
// It returns what a seeding one-shot container reads on its stdin.
func defaultRules(f *fakeRunner) *bytes.Buffer {
	f.on("--version", "podman version 4.3.1\n", nil)
	f.on("image exists", "", nil)
	f.on("build ", "", nil)
	f.on("network ", "", nil)
	f.on("rm ", "", nil)
	f.on("run --detach --name paude-proxy-", "", nil)
	f.on("exec paude-proxy-", "", nil)
	f.on("volume ", "", nil)
	f.on("create ", "", nil)
	f.on("cp ", "", nil)
	seed := &bytes.Buffer{}
	f.on("run --rm -i", "", nil).in = seed
	f.on("start ", "", nil)
	f.on("exec paude-1767323045-deadbeef /usr/local/bin/paude-entrypoint status", "running\n", nil)
	return seed
}

// call is one recorded podman call and the tar stream it read.
type call struct {
	idx  int
	line string
	tar  []string
}

// canonical orders the calls a start makes at the same time as apply
// lists them, since podman answers them in any order: the read-only
// questions first (images, then the proxy: look), the session's network
// and proxy before its volumes (prepare), and the seeding one-shot
// container right before the agent's start.
func canonical(lines []string, tars map[int][]string) []call {
	var calls, seeds []call
	lookedUp := -1
	for i, l := range lines {
		c := call{i, l, tars[i]}
		// The seeding runs in the background from the repository
		// volume's creation until the agent's start: it goes right
		// before the start.
		if strings.HasPrefix(l, "run --rm") {
			seeds = append(seeds, c)
			continue
		}
		calls = append(calls, c)
		if lookedUp < 0 && strings.HasPrefix(l, "container inspect --format json paude-proxy-") {
			lookedUp = i
		}
	}
	at := slices.IndexFunc(calls, func(c call) bool { return strings.HasPrefix(c.line, "start paude-1767323045-deadbeef") })
	if at < 0 {
		at = len(calls)
	}
	calls = slices.Insert(calls, at, seeds...)
	rank := func(c call) int {
		switch l := c.line; {
		case strings.Contains(l, "exists paude-workspace:"):
			return 0
		case strings.HasPrefix(l, "image exists "):
			return 1
		case c.idx == lookedUp:
			// The look's question about the proxy; later ones follow
			// the proxy's network connect.
			return 2
		case strings.HasPrefix(l, "volume create "):
			return 4
		case strings.HasPrefix(l, "cp -"):
			return 5
		}
		return 3
	}
	// Each group of concurrent calls ends where a call that depends on
	// all of them begins.
	barrier := func(c call) bool {
		return strings.HasPrefix(c.line, "build ") || strings.HasPrefix(c.line, "create --name") ||
			strings.HasPrefix(c.line, "start paude-1767323045-deadbeef") || strings.HasPrefix(c.line, "rm ")
	}
	var out []call
	for len(calls) > 0 {
		n := 0
		for n < len(calls) && !barrier(calls[n]) {
			n++
		}
		group := slices.Clone(calls[:n])
		slices.SortStableFunc(group, func(a, b call) int {
			if c := cmp.Compare(rank(a), rank(b)); c != 0 || rank(a) != 4 {
				return c
			}
			return strings.Compare(a.line, b.line)
		})
		out = append(out, group...)
		if n < len(calls) {
			out = append(out, calls[n])
			n++
		}
		calls = calls[n:]
	}
	return out
}
