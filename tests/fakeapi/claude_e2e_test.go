//go:build e2e

package fakeapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// route is one way Claude Code reaches a model, set up against the fake.
type route struct {
	name      string
	provider  Provider
	region    string
	env       []string          // besides the sandbox's own
	homeFiles map[string][]byte // files under HOME, by path relative to it
	modelCall Call              // the call that must carry the answer
	modelHost string
	tokenCall Call     // the login call that must precede it, if any
	needs     []string // the allowlisted hosts without which it fails
}

// routes are the ways paude's users reach a model, each in the form
// paude gives it to the agent (ADC under ~/.config/gcloud, a Claude login
// under ~/.claude).
func routes() []route {
	fake := NewServer(DefaultReply) // only for its default credentials
	adc := map[string][]byte{".config/gcloud/application_default_credentials.json": ADCFile(DefaultRefreshToken)}
	return []route{
		{name: "anthropic api key", provider: Anthropic, env: fake.Env(Anthropic, ""),
			modelCall: CallMessages, modelHost: AnthropicAPIHost, needs: []string{AnthropicAPIHost}},
		{name: "claude account login", provider: Anthropic,
			homeFiles: map[string][]byte{".claude/.credentials.json": ClaudeCredentialsFile(DefaultRefreshToken)},
			modelCall: CallMessages, modelHost: AnthropicAPIHost, tokenCall: CallClaudeToken,
			needs: []string{AnthropicAPIHost, ClaudeTokenHost}},
		{name: "vertex regional", provider: Vertex, region: "us-east5", env: fake.Env(Vertex, "us-east5"), homeFiles: adc,
			modelCall: CallVertex, modelHost: VertexHost("us-east5"), tokenCall: CallToken,
			needs: []string{VertexHost("us-east5"), GoogleTokenHost}},
		{name: "vertex global", provider: Vertex, region: "global", env: fake.Env(Vertex, "global"), homeFiles: adc,
			modelCall: CallVertex, modelHost: VertexGlobalHost, tokenCall: CallToken,
			needs: []string{VertexGlobalHost, GoogleTokenHost}},
	}
}

// TestClaudePrint runs the real `claude -p` behind a proxy that allows
// only Hosts(provider, region), as paude's squid would, with no DNS, and
// checks that the fake's answer is what Claude Code prints, that it came
// from the model call on the real host name with the right credential,
// and that Claude Code needed nothing outside the allowlist. The control
// cases make the fake's model call fail: Claude Code must then fail too,
// so the answer cannot have come from anywhere else.
func TestClaudePrint(t *testing.T) {
	requireSandbox(t)
	for _, r := range routes() {
		t.Run(r.name, func(t *testing.T) {
			allow := Hosts(r.provider, r.region)

			t.Run("quiet answers within the allowlist", func(t *testing.T) {
				s := r.sandbox(t, allow, QuietEnv()...)
				res := s.runClaude(t, "-p", "say hi")
				r.checkAnswered(t, s, res)
				if refused := s.refused(); len(refused) > 0 {
					t.Errorf("with %v Claude Code still asked the proxy for names outside %v: %v", QuietEnv(), allow, refused)
				}
				if names := s.resolver.Names(); len(names) > 0 {
					t.Errorf("Claude Code looked names up itself instead of leaving them to the proxy: %v", names)
				}
			})

			t.Run("default answers within the allowlist", func(t *testing.T) {
				s := r.sandbox(t, allow)
				res := s.runClaude(t, "-p", "say hi")
				r.checkAnswered(t, s, res)
				t.Logf("without %v the proxy refused %v and the resolver was asked %v", QuietEnv(), s.refused(), s.resolver.Names())
			})

			// Each host the route needs is needed: without it in the
			// allowlist, Claude Code fails. So the list is no wider than
			// the route requires.
			for _, host := range r.needs {
				t.Run("fails without "+host, func(t *testing.T) {
					narrower := slices.DeleteFunc(slices.Clone(allow), func(h string) bool { return h == host })
					s := r.sandbox(t, narrower, append(QuietEnv(), "CLAUDE_CODE_MAX_RETRIES=0")...)
					res := s.runClaude(t, "-p", "say hi")
					if res.err == nil || strings.Contains(res.stdout, DefaultReply) {
						t.Errorf("claude -p answered with %s refused by the proxy: %v\n%s", host, res.err, res.stdout)
					}
					if !slices.Contains(s.refused(), "CONNECT "+host+":443") {
						t.Errorf("Claude Code never asked the proxy for %s:\n%s", host, s.describe())
					}
				})
			}

			for _, status := range []int{http.StatusUnauthorized, http.StatusInternalServerError} {
				t.Run(fmt.Sprintf("fails when the model answers %d", status), func(t *testing.T) {
					// No retries: Claude Code retries a 401 or 500 up to ten
					// times with growing pauses by default.
					s := r.sandbox(t, allow, append(QuietEnv(), "CLAUDE_CODE_MAX_RETRIES=0")...)
					s.fake.FailWith(status)
					res := s.runClaude(t, "-p", "say hi")
					if res.err == nil {
						t.Errorf("claude -p succeeded although the model answered %d; stdout:\n%s", status, res.stdout)
					}
					if strings.Contains(res.stdout, DefaultReply) {
						t.Errorf("claude -p printed the fake's answer although the model answered %d", status)
					}
					if !slices.ContainsFunc(s.fake.Requests(), func(q Request) bool {
						return q.Call == r.modelCall && q.Host == r.modelHost && q.Status == status
					}) {
						t.Errorf("the fake saw no %s call on %s that it answered %d:\n%s", r.modelCall, r.modelHost, status, s.describe())
					}
					t.Logf("claude -p with the model answering %d: %v, %s", status, res.err, strings.TrimSpace(res.stdout))
				})
			}
		})
	}
}

// TestClaudeChecksCertificates shows that the TLS the fake passes is real:
// without the test CA in NODE_EXTRA_CA_CERTS, Claude Code refuses the
// fake's certificate for the real host name, and so gets no answer.
func TestClaudeChecksCertificates(t *testing.T) {
	requireSandbox(t)
	r := routes()[0]
	s := r.sandbox(t, Hosts(r.provider, r.region), append(QuietEnv(), "CLAUDE_CODE_MAX_RETRIES=0")...)
	s.env = slices.DeleteFunc(s.env, func(kv string) bool { return strings.HasPrefix(kv, "NODE_EXTRA_CA_CERTS=") })
	res := s.runClaude(t, "-p", "say hi")
	if res.err == nil || strings.Contains(res.stdout, DefaultReply) {
		t.Fatalf("claude -p answered without trusting the test CA: %v\n%s", res.err, res.stdout)
	}
	if slices.ContainsFunc(s.fake.Requests(), func(q Request) bool { return q.Call == r.modelCall }) {
		t.Errorf("a model call reached the fake over TLS the client should have refused:\n%s", s.describe())
	}
	t.Logf("without the CA: %v, %s", res.err, strings.TrimSpace(res.stdout))
}

// sandbox starts a closed sandbox for the route: the proxy allows only
// allow, and the resolver knows no name.
func (r route) sandbox(t *testing.T, allow []string, env ...string) *sandbox {
	t.Helper()
	s := newSandbox(t, sandboxOptions{allow: allow}, append(slices.Clone(r.env), env...)...)
	for rel, data := range r.homeFiles {
		s.writeHomeFile(t, rel, data)
	}
	return s
}

// checkAnswered asserts that claude printed the fake's answer and that the
// fake served it through the route's login and model calls.
func (r route) checkAnswered(t *testing.T, s *sandbox, res claudeResult) {
	t.Helper()
	if res.err != nil {
		t.Fatalf("claude -p failed: %v\nstdout:\n%s\nstderr:\n%s\nthe fake and the proxy saw:\n%s", res.err, res.stdout, res.stderr, s.describe())
	}
	if !strings.Contains(res.stdout, DefaultReply) {
		t.Errorf("claude -p printed %q, not the fake's answer %q", res.stdout, DefaultReply)
	}
	reqs := s.fake.Requests()
	if !slices.ContainsFunc(reqs, func(q Request) bool {
		return q.Call == r.modelCall && q.Host == r.modelHost && q.Auth && q.Stream && q.Status == http.StatusOK
	}) {
		t.Errorf("the fake served no authenticated, streamed %s call on %s:\n%s", r.modelCall, r.modelHost, s.describe())
	}
	if r.tokenCall != "" && !slices.ContainsFunc(reqs, func(q Request) bool {
		return q.Call == r.tokenCall && q.Auth && q.Status == http.StatusOK
	}) {
		t.Errorf("the fake issued no token through %s, so the login path was not used:\n%s", r.tokenCall, s.describe())
	}
	t.Logf("claude -p answered in %s: %s", res.took.Round(time.Millisecond), strings.TrimSpace(res.stdout))
}

// refused returns the proxy requests the allowlist refused.
func (s *sandbox) refused() []string {
	var out []string
	for _, a := range s.proxy.Attempts() {
		if !a.Allowed {
			out = append(out, a.Method+" "+a.Target)
		}
	}
	return out
}

// describe lists what the fake, the proxy and the resolver saw, for a
// failure message.
func (s *sandbox) describe() string {
	var b strings.Builder
	for _, q := range s.fake.Requests() {
		fmt.Fprintf(&b, "  fake: %s %s%s call=%s auth=%t stream=%t status=%d\n", q.Method, q.Host, q.Path, q.Call, q.Auth, q.Stream, q.Status)
	}
	for _, a := range s.proxy.Attempts() {
		fmt.Fprintf(&b, "  proxy: %s %s allowed=%t\n", a.Method, a.Target, a.Allowed)
	}
	for _, n := range s.resolver.Names() {
		fmt.Fprintf(&b, "  dns: %s\n", n)
	}
	return b.String()
}
