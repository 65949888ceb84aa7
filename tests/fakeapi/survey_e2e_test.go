//go:build e2e

package fakeapi

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestClaudeTrafficSurvey is how NOTES.md was measured: each route runs
// in an open sandbox (the proxy allows every name and the resolver answers
// 127.0.0.1 for every name, so even traffic that bypasses the proxy
// reaches the fake and is seen), with and without QuietEnv. Run it with
// -v to read, per run, every host and path Claude Code asked for. It
// checks that each route still answers and that, quiet, Claude Code
// contacts only Hosts(provider, region). Bedrock is not faked, so its
// run fails; what it asks for on the way is the survey.
func TestClaudeTrafficSurvey(t *testing.T) {
	requireSandbox(t)
	bedrock := route{name: "bedrock", provider: Bedrock, region: "eu-central-1",
		env: []string{"CLAUDE_CODE_USE_BEDROCK=1", "AWS_REGION=eu-central-1",
			"AWS_ACCESS_KEY_ID=AKIAFAKEAPI000000000", "AWS_SECRET_ACCESS_KEY=fakeapi-not-a-real-secret", "CLAUDE_CODE_MAX_RETRIES=0"}}
	for _, r := range append(routes(), bedrock) {
		for _, quiet := range []bool{false, true} {
			name := r.name + "/default"
			env := slices.Clone(r.env)
			if quiet {
				name, env = r.name+"/quiet", append(env, QuietEnv()...)
			}
			t.Run(name, func(t *testing.T) {
				s := newSandbox(t, sandboxOptions{direct: true}, env...)
				for rel, data := range r.homeFiles {
					s.writeHomeFile(t, rel, data)
				}
				res := s.runClaude(t, "-p", "say hi")
				t.Logf("claude -p: %v in %s: %s\n%s", res.err, res.took.Round(time.Millisecond), strings.TrimSpace(res.stdout), s.survey())
				if r.provider != Bedrock && !strings.Contains(res.stdout, DefaultReply) {
					t.Errorf("claude -p did not print the fake's answer: %v\n%s\n%s", res.err, res.stdout, res.stderr)
				}
				if !quiet {
					return
				}
				allow := Hosts(r.provider, r.region)
				for _, host := range s.hostsContacted() {
					if !slices.Contains(allow, host) {
						t.Errorf("with %v Claude Code contacted %s, which is not in Hosts(%s, %q) = %v", QuietEnv(), host, r.provider, r.region, allow)
					}
				}
			})
		}
	}
}

// hostsContacted returns every name Claude Code reached for: through the
// proxy, by its own lookups, or at the fake (by Host header), sorted.
func (s *sandbox) hostsContacted() []string {
	seen := map[string]bool{}
	for _, a := range s.proxy.Attempts() {
		host := a.Target
		if h, _, err := net.SplitHostPort(a.Target); err == nil {
			host = h
		}
		seen[host] = true
	}
	for _, n := range s.resolver.Names() {
		_, name, _ := strings.Cut(n, " ")
		seen[strings.TrimSuffix(name, ".")] = true
	}
	for _, q := range s.fake.Requests() {
		seen[q.Host] = true
	}
	hosts := make([]string, 0, len(seen))
	for h := range seen {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return hosts
}

// survey renders what a run asked for as counted lines, sorted: "N x
// METHOD host/path -> status (call)", then proxy and resolver lines.
func (s *sandbox) survey() string {
	counts := map[string]int{}
	for _, q := range s.fake.Requests() {
		counts[fmt.Sprintf("fake  %s %s%s -> %d (%s)", q.Method, q.Host, q.Path, q.Status, q.Call)]++
	}
	for _, a := range s.proxy.Attempts() {
		counts[fmt.Sprintf("proxy %s %s allowed=%t", a.Method, a.Target, a.Allowed)]++
	}
	for _, n := range s.resolver.Names() {
		counts["dns   "+n]++
	}
	lines := make([]string, 0, len(counts))
	for l, n := range counts {
		lines = append(lines, fmt.Sprintf("  %2d x %s", n, l))
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i][7:] < lines[j][7:] })
	return strings.Join(lines, "\n")
}
