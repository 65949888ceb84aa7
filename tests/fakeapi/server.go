package fakeapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Default credentials a Server accepts. They are recognisable in a log
// and obviously not real, and a test that needs others sets the fields.
const (
	DefaultAPIKey       = "sk-ant-fakeapi-not-a-real-key"
	DefaultRefreshToken = "1//fakeapi-refresh-token-not-real"
	DefaultAccessToken  = "ya29.fakeapi-access-token-not-real"
	DefaultReply        = "FAKEAPI-REPLY: hello from the fake model endpoint"
)

// Call says what a Server took a request for.
type Call string

// The calls a Server answers; every other request is CallUnknown and gets
// a 404, so a client that needs more than these fails visibly.
const (
	CallMessages    Call = "anthropic-messages"     // POST api.anthropic.com/v1/messages
	CallCountTokens Call = "anthropic-count-tokens" // POST api.anthropic.com/v1/messages/count_tokens
	CallToken       Call = "google-token"           // POST oauth2.googleapis.com/token
	CallClaudeToken Call = "claude-token"           // POST platform.claude.com/v1/oauth/token
	CallVertex      Call = "vertex-predict"         // POST …/publishers/anthropic/models/M:(stream)rawPredict
	CallHello       Call = "hello"                  // GET api.anthropic.com/api/hello, platform.claude.com/v1/oauth/hello
	CallUnknown     Call = "unknown"
)

// Request is one request a Server saw, with what it made of it.
type Request struct {
	Host   string `json:"host"`   // the Host header without a port
	Method string `json:"method"` // GET, POST, …
	Path   string `json:"path"`   // the URL path, without the query
	Call   Call   `json:"call"`
	// Auth is true when the request presented the credential the Server
	// expects for its call: the API key, the refresh token, or the access
	// token the token endpoint issued.
	Auth   bool   `json:"auth"`
	Model  string `json:"model,omitempty"` // the model asked for, from the body or (Vertex) the path
	Stream bool   `json:"stream,omitempty"`
	Status int    `json:"status"` // the status the Server answered
}

// Server is an http.Handler that fakes what Claude Code needs from
// Anthropic's API, Google's OAuth token endpoint and Vertex AI. Set its
// fields before serving; they are read, not changed, while it runs.
type Server struct {
	// Reply is the text every model call answers.
	Reply string
	// APIKey is the only x-api-key (or Bearer token) api.anthropic.com
	// accepts.
	APIKey string
	// RefreshToken is the only refresh token the token endpoints (Google's
	// and a Claude account's) accept, and AccessToken what they issue in
	// exchange: a Bearer token Vertex AI and api.anthropic.com accept.
	RefreshToken, AccessToken string
	// Log, when set, gets one line per request (LogPrefix and the Request
	// as JSON), so a test can read a Server that runs in a container or
	// pod from its output with ReadLog.
	Log io.Writer

	mu       sync.Mutex
	failWith int
	requests []Request
}

// NewServer returns a Server that answers reply and accepts the Default
// credentials.
func NewServer(reply string) *Server {
	return &Server{Reply: reply, APIKey: DefaultAPIKey, RefreshToken: DefaultRefreshToken, AccessToken: DefaultAccessToken}
}

// FailWith makes every model call (Messages API, Vertex AI predict and
// count-tokens) answer status with an error body in the provider's
// format, from now on; 0 restores normal answers. The token endpoint
// still works, so a control case shows that the model's answer, not the
// login, is what the client needs.
func (s *Server) FailWith(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith = status
}

// Requests returns a copy of the requests seen so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ServeHTTP routes by Host header and records the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &Request{Host: hostOnly(r.Host), Method: r.Method, Path: r.URL.Path, Call: CallUnknown}
	s.mu.Lock()
	failWith := s.failWith
	s.mu.Unlock()

	switch {
	case rec.Host == AnthropicAPIHost:
		s.serveAnthropic(w, r, rec, failWith)
	case rec.Host == ClaudeTokenHost:
		s.serveClaudeToken(w, r, rec)
	case rec.Host == GoogleTokenHost:
		s.serveToken(w, r, rec)
	case IsVertexHost(rec.Host):
		s.serveVertex(w, r, rec, failWith)
	default:
		rec.Status = http.StatusNotFound
		http.Error(w, "fakeapi: no fake for host "+rec.Host, rec.Status)
	}
	s.record(*rec)
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	if s.Log != nil {
		line, _ := json.Marshal(rec)
		s.mu.Lock()
		fmt.Fprintf(s.Log, "%s%s\n", LogPrefix, line)
		s.mu.Unlock()
	}
}

// hostOnly strips a port and a trailing dot, and lower-cases the name, as
// a Host header may carry all three.
func hostOnly(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
