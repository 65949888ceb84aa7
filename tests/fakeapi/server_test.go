package fakeapi

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	vertexModelPath  = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-opus-5-5"
	vertexGlobalPath = "/v1/projects/p/locations/global/publishers/anthropic/models/claude-opus-5-5"
	vertexCountPath  = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict"
)

// TestServeHTTP sends each kind of request Claude Code makes, and the
// wrong versions of them, and checks the answer and the record.
func TestServeHTTP(t *testing.T) {
	apiKey := map[string]string{"X-Api-Key": DefaultAPIKey}
	bearer := map[string]string{"Authorization": "Bearer " + DefaultAccessToken}
	tests := []struct {
		name            string
		method, host    string
		path, body      string // body: a file under testdata, or ""
		header          map[string]string
		failWith        int
		wantStatus      int
		wantCall        Call
		wantAuth        bool
		wantStream      bool
		wantModel       string
		wantBodyHas     string
		wantContentType string
	}{
		{name: "messages streamed", method: "POST", host: "api.anthropic.com", path: "/v1/messages?beta=true", body: "messages-stream.json", header: apiKey,
			wantStatus: 200, wantCall: CallMessages, wantAuth: true, wantStream: true, wantModel: "claude-opus-5-5", wantContentType: "text/event-stream"},
		{name: "messages whole", method: "POST", host: "api.anthropic.com:443", path: "/v1/messages", body: "messages.json", header: apiKey,
			wantStatus: 200, wantCall: CallMessages, wantAuth: true, wantModel: "claude-haiku-4-5", wantBodyHas: `"text":"` + DefaultReply},
		{name: "messages with the key as bearer", method: "POST", host: "API.anthropic.com.", path: "/v1/messages", body: "messages.json",
			header: map[string]string{"Authorization": "Bearer " + DefaultAPIKey}, wantStatus: 200, wantCall: CallMessages, wantAuth: true, wantModel: "claude-haiku-4-5"},
		{name: "messages with a refreshed access token", method: "POST", host: "api.anthropic.com", path: "/v1/messages", body: "messages.json", header: bearer,
			wantStatus: 200, wantCall: CallMessages, wantAuth: true, wantModel: "claude-haiku-4-5"},
		{name: "messages with a wrong key", method: "POST", host: "api.anthropic.com", path: "/v1/messages", body: "messages.json",
			header: map[string]string{"X-Api-Key": "sk-ant-someone-else"}, wantStatus: 401, wantCall: CallMessages, wantModel: "claude-haiku-4-5", wantBodyHas: "authentication_error"},
		{name: "messages without a key", method: "POST", host: "api.anthropic.com", path: "/v1/messages", body: "messages.json",
			wantStatus: 401, wantCall: CallMessages, wantModel: "claude-haiku-4-5"},
		{name: "messages not json", method: "POST", host: "api.anthropic.com", path: "/v1/messages", body: "not-json.txt", header: apiKey,
			wantStatus: 400, wantCall: CallMessages, wantAuth: true, wantBodyHas: "invalid_request_error"},
		{name: "messages told to fail", method: "POST", host: "api.anthropic.com", path: "/v1/messages", body: "messages-stream.json", header: apiKey, failWith: 529,
			wantStatus: 529, wantCall: CallMessages, wantAuth: true, wantStream: true, wantModel: "claude-opus-5-5", wantBodyHas: "overloaded_error"},
		{name: "count tokens", method: "POST", host: "api.anthropic.com", path: "/v1/messages/count_tokens", body: "count-tokens.json", header: apiKey,
			wantStatus: 200, wantCall: CallCountTokens, wantAuth: true, wantModel: "claude-opus-5-5", wantBodyHas: "input_tokens"},
		{name: "connectivity check", method: "GET", host: "api.anthropic.com", path: "/api/hello",
			wantStatus: 200, wantCall: CallHello},
		{name: "anthropic path without a fake", method: "GET", host: "api.anthropic.com", path: "/api/claude_cli/bootstrap", header: apiKey,
			wantStatus: 404, wantCall: CallUnknown, wantAuth: true},
		{name: "unknown host", method: "GET", host: "statsig.anthropic.com", path: "/v1/initialize",
			wantStatus: 404, wantCall: CallUnknown},

		{name: "google token", method: "POST", host: "oauth2.googleapis.com", path: "/token", body: "google-token.form",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 200, wantCall: CallToken, wantAuth: true, wantBodyHas: DefaultAccessToken},
		{name: "google token still works when told to fail", method: "POST", host: "oauth2.googleapis.com", path: "/token", body: "google-token.form", failWith: 500,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 200, wantCall: CallToken, wantAuth: true},
		{name: "google token for another refresh token", method: "POST", host: "oauth2.googleapis.com", path: "/token", body: "google-token-bad.form",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 400, wantCall: CallToken, wantBodyHas: "invalid_grant"},
		{name: "google path without a fake", method: "GET", host: "oauth2.googleapis.com", path: "/tokeninfo",
			wantStatus: 404, wantCall: CallUnknown},

		{name: "vertex streamed", method: "POST", host: "us-east5-aiplatform.googleapis.com", path: vertexModelPath + ":streamRawPredict", body: "vertex-stream.json", header: bearer,
			wantStatus: 200, wantCall: CallVertex, wantAuth: true, wantStream: true, wantModel: "claude-opus-5-5", wantContentType: "text/event-stream"},
		{name: "vertex whole", method: "POST", host: "us-east5-aiplatform.googleapis.com", path: vertexModelPath + ":rawPredict", body: "vertex.json", header: bearer,
			wantStatus: 200, wantCall: CallVertex, wantAuth: true, wantModel: "claude-opus-5-5", wantBodyHas: DefaultReply},
		{name: "vertex global", method: "POST", host: "aiplatform.googleapis.com", path: vertexGlobalPath + ":streamRawPredict", body: "vertex-stream.json", header: bearer,
			wantStatus: 200, wantCall: CallVertex, wantAuth: true, wantStream: true, wantModel: "claude-opus-5-5"},
		{name: "vertex location on another region's host", method: "POST", host: "europe-west1-aiplatform.googleapis.com", path: vertexModelPath + ":rawPredict", body: "vertex.json", header: bearer,
			wantStatus: 400, wantCall: CallVertex, wantAuth: true, wantModel: "claude-opus-5-5", wantBodyHas: "use us-east5-aiplatform.googleapis.com"},
		{name: "vertex global location on a regional host", method: "POST", host: "us-east5-aiplatform.googleapis.com", path: vertexGlobalPath + ":rawPredict", body: "vertex.json", header: bearer,
			wantStatus: 400, wantCall: CallVertex, wantAuth: true, wantModel: "claude-opus-5-5"},
		{name: "vertex with the api key", method: "POST", host: "us-east5-aiplatform.googleapis.com", path: vertexModelPath + ":rawPredict", body: "vertex.json",
			header: map[string]string{"Authorization": "Bearer " + DefaultAPIKey}, wantStatus: 401, wantCall: CallVertex, wantModel: "claude-opus-5-5", wantBodyHas: "UNAUTHENTICATED"},
		{name: "vertex told to fail", method: "POST", host: "us-east5-aiplatform.googleapis.com", path: vertexModelPath + ":streamRawPredict", body: "vertex-stream.json", header: bearer, failWith: 401,
			wantStatus: 401, wantCall: CallVertex, wantAuth: true, wantStream: true, wantModel: "claude-opus-5-5"},
		{name: "vertex count tokens", method: "POST", host: "us-east5-aiplatform.googleapis.com", path: vertexCountPath, body: "count-tokens.json", header: bearer,
			wantStatus: 200, wantCall: CallCountTokens, wantAuth: true, wantBodyHas: "input_tokens"},
		{name: "vertex other publisher", method: "POST", host: "us-east5-aiplatform.googleapis.com", path: "/v1/projects/p/locations/us-east5/publishers/google/models/gemini:generateContent", header: bearer,
			wantStatus: 404, wantCall: CallUnknown},

		{name: "claude token", method: "POST", host: "platform.claude.com", path: "/v1/oauth/token", body: "claude-token.json",
			wantStatus: 200, wantCall: CallClaudeToken, wantAuth: true, wantBodyHas: DefaultAccessToken},
		{name: "claude token for another refresh token", method: "POST", host: "platform.claude.com", path: "/v1/oauth/token", body: "claude-token-bad.json",
			wantStatus: 400, wantCall: CallClaudeToken, wantBodyHas: "invalid_grant"},
		{name: "claude token not json", method: "POST", host: "platform.claude.com", path: "/v1/oauth/token", body: "not-json.txt",
			wantStatus: 400, wantCall: CallClaudeToken},
		{name: "claude connectivity check", method: "GET", host: "platform.claude.com", path: "/v1/oauth/hello",
			wantStatus: 200, wantCall: CallHello},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(DefaultReply)
			s.FailWith(tt.failWith)
			req := httptest.NewRequest(tt.method, "https://"+tt.host+tt.path, strings.NewReader(readTestdata(t, tt.body)))
			req.Host = tt.host
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)

			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d; body: %s", w.Code, tt.wantStatus, w.Body)
			}
			if tt.wantBodyHas != "" && !strings.Contains(w.Body.String(), tt.wantBodyHas) {
				t.Errorf("body %s lacks %q", w.Body, tt.wantBodyHas)
			}
			if tt.wantContentType != "" && w.Header().Get("Content-Type") != tt.wantContentType {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tt.wantContentType)
			}
			reqs := s.Requests()
			if len(reqs) != 1 {
				t.Fatalf("recorded %d requests, want 1: %+v", len(reqs), reqs)
			}
			got := reqs[0]
			want := Request{Host: hostOnly(tt.host), Method: tt.method, Path: strings.SplitN(tt.path, "?", 2)[0],
				Call: tt.wantCall, Auth: tt.wantAuth, Model: tt.wantModel, Stream: tt.wantStream, Status: tt.wantStatus}
			if got != want {
				t.Errorf("recorded\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestStreamedMessage reads a streamed answer as a client does: the text
// deltas, in order, make the reply, between message_start and
// message_stop, and every event's data names its own type.
func TestStreamedMessage(t *testing.T) {
	for _, reply := range []string{DefaultReply, "x", "ünïcödé ✓ reply"} {
		t.Run(reply, func(t *testing.T) {
			s := NewServer(reply)
			req := httptest.NewRequest("POST", "https://api.anthropic.com/v1/messages", strings.NewReader(readTestdata(t, "messages-stream.json")))
			req.Header.Set("X-Api-Key", DefaultAPIKey)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)

			var events []string
			var text strings.Builder
			sc := bufio.NewScanner(w.Body)
			name := ""
			for sc.Scan() {
				line := sc.Text()
				if n, ok := strings.CutPrefix(line, "event: "); ok {
					name = n
					events = append(events, n)
					continue
				}
				data, ok := strings.CutPrefix(line, "data: ")
				if !ok {
					continue
				}
				var ev struct {
					Type  string `json:"type"`
					Delta struct {
						Type, Text string
					} `json:"delta"`
				}
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					t.Fatalf("event %s: data is not JSON: %v", name, err)
				}
				if ev.Type != name {
					t.Errorf("event %q carries type %q", name, ev.Type)
				}
				if ev.Delta.Type == "text_delta" {
					text.WriteString(ev.Delta.Text)
				}
			}
			if text.String() != reply {
				t.Errorf("the deltas make %q, want %q", text.String(), reply)
			}
			if len(events) < 2 || events[0] != "message_start" || events[len(events)-1] != "message_stop" {
				t.Errorf("events %v do not run from message_start to message_stop", events)
			}
		})
	}
}

// TestReadLog reads the records a Server logs back, from output that has
// other lines too, and refuses a record it cannot read.
func TestReadLog(t *testing.T) {
	t.Run("round trip", func(t *testing.T) {
		var log strings.Builder
		s := NewServer(DefaultReply)
		s.Log = &log
		for _, host := range []string{"api.anthropic.com", "oauth2.googleapis.com"} {
			s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "https://"+host+"/x", nil))
		}
		got, err := ReadLog(strings.NewReader("noise\n" + log.String() + "more noise\n"))
		if err != nil {
			t.Fatal(err)
		}
		if want := s.Requests(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("read back %+v, want %+v", got, want)
		}
	})
	t.Run("container output", func(t *testing.T) {
		f, err := os.Open(filepath.Join("testdata", "container.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got, err := ReadLog(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Call != CallToken || got[1].Call != CallVertex || !got[1].Stream || got[1].Model != "claude-opus-5-5" {
			t.Errorf("read %+v", got)
		}
	})
	t.Run("broken record", func(t *testing.T) {
		_, err := ReadLog(strings.NewReader("ok\n" + LogPrefix + "{not json\n"))
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("error %v, want one naming line 2", err)
		}
	})
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	if name == "" {
		return ""
	}
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestWantsPOSTForModels is a guard on routing: a GET to a model path is
// not a model call.
func TestWantsPOSTForModels(t *testing.T) {
	for _, target := range []string{"https://api.anthropic.com/v1/messages", "https://us-east5-aiplatform.googleapis.com" + vertexModelPath + ":rawPredict"} {
		t.Run(target, func(t *testing.T) {
			s := NewServer(DefaultReply)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
			if w.Code != http.StatusNotFound || s.Requests()[0].Call != CallUnknown {
				t.Errorf("GET %s: %d %s", target, w.Code, s.Requests()[0].Call)
			}
		})
	}
}
