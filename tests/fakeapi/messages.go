package fakeapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxBody bounds what the fake reads of a request body: Claude Code's
// first call carries its whole system prompt and tool list (a few hundred
// KiB), and nothing legitimate comes near this.
const maxBody = 16 << 20

// messagesRequest holds the fields of an Anthropic Messages API body the
// fake looks at.
type messagesRequest struct {
	Model  string `json:"model"`
	Stream bool   `json:"stream"`
}

// readMessagesRequest decodes what it can of a Messages API body; a body
// that is not JSON leaves the zero value, which the caller records.
func readMessagesRequest(r *http.Request) (messagesRequest, error) {
	var m messagesRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("request body is not a JSON object: %w", err)
	}
	return m, nil
}

// serveAnthropic answers api.anthropic.com: /v1/messages (streamed or not)
// and /v1/messages/count_tokens, with x-api-key (or a Bearer token) equal
// to APIKey.
func (s *Server) serveAnthropic(w http.ResponseWriter, r *http.Request, rec *Request, failWith int) {
	rec.Auth = s.anthropicAuth(r)
	switch {
	case r.Method == http.MethodGet && rec.Path == "/api/hello":
		serveHello(w, rec)
		return
	case r.Method == http.MethodPost && rec.Path == "/v1/messages":
		rec.Call = CallMessages
	case r.Method == http.MethodPost && rec.Path == "/v1/messages/count_tokens":
		rec.Call = CallCountTokens
	default:
		rec.Status = http.StatusNotFound
		writeAnthropicError(w, rec.Status, "not_found_error", "fakeapi: no fake for "+r.Method+" "+rec.Path)
		return
	}
	body, err := readMessagesRequest(r)
	rec.Model, rec.Stream = body.Model, body.Stream
	switch {
	case err != nil:
		rec.Status = http.StatusBadRequest
		writeAnthropicError(w, rec.Status, "invalid_request_error", err.Error())
	case !rec.Auth:
		rec.Status = http.StatusUnauthorized
		writeAnthropicError(w, rec.Status, "authentication_error", "invalid x-api-key")
	case failWith != 0:
		rec.Status = failWith
		writeAnthropicError(w, rec.Status, errorType(failWith), "fakeapi: told to fail")
	case rec.Call == CallCountTokens:
		rec.Status = http.StatusOK
		writeJSON(w, rec.Status, map[string]int{"input_tokens": 42})
	default:
		rec.Status = http.StatusOK
		s.writeMessage(w, body.Model, body.Stream)
	}
}

// serveHello answers the connectivity check Claude Code's first-run
// onboarding makes (on api.anthropic.com and platform.claude.com) before
// it lets anyone log in.
func serveHello(w http.ResponseWriter, rec *Request) {
	rec.Call, rec.Status = CallHello, http.StatusOK
	writeJSON(w, rec.Status, map[string]string{"message": "hello"})
}

// anthropicAuth reports whether r carries a credential api.anthropic.com
// accepts: the API key (as x-api-key, or Bearer as a long-lived
// CLAUDE_CODE_OAUTH_TOKEN is sent) or the access token a Claude account's
// token refresh issued.
func (s *Server) anthropicAuth(r *http.Request) bool {
	key, bearer := r.Header.Get("X-Api-Key"), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	return s.APIKey != "" && (key == s.APIKey || bearer == s.APIKey) ||
		s.AccessToken != "" && bearer == s.AccessToken
}

// writeMessage answers a Messages API call with s.Reply, as one JSON
// message or as the server-sent events of a streamed one. Vertex AI's
// rawPredict and streamRawPredict answer in exactly these formats.
func (s *Server) writeMessage(w http.ResponseWriter, model string, stream bool) {
	const id = "msg_fakeapi"
	usage := map[string]int{"input_tokens": 42, "output_tokens": len(strings.Fields(s.Reply))}
	if !stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model,
			"content":     []map[string]string{{"type": "text", "text": s.Reply}},
			"stop_reason": "end_turn", "stop_sequence": nil, "usage": usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	// The reply goes out in two deltas, so a client that kept only the
	// last delta would show half of it and fail the test.
	half := len(s.Reply) / 2
	for half > 0 && !utf8.RuneStart(s.Reply[half]) {
		half-- // never split a character between the deltas
	}
	events := []sseEvent{
		{"message_start", map[string]any{"message": map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
			"stop_reason": nil, "stop_sequence": nil,
			"usage": map[string]int{"input_tokens": 42, "output_tokens": 1},
		}}},
		{"content_block_start", map[string]any{"index": 0, "content_block": map[string]string{"type": "text", "text": ""}}},
		{"ping", map[string]any{}},
		{"content_block_delta", map[string]any{"index": 0, "delta": map[string]string{"type": "text_delta", "text": s.Reply[:half]}}},
		{"content_block_delta", map[string]any{"index": 0, "delta": map[string]string{"type": "text_delta", "text": s.Reply[half:]}}},
		{"content_block_stop", map[string]any{"index": 0}},
		{"message_delta", map[string]any{
			"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
			"usage": map[string]int{"output_tokens": usage["output_tokens"]},
		}},
		{"message_stop", map[string]any{}},
	}
	flusher, _ := w.(http.Flusher)
	for _, e := range events {
		e.data["type"] = e.name
		data, _ := json.Marshal(e.data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, data)
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// sseEvent is one server-sent event of a streamed message; its data gets
// a "type" equal to its name, as Anthropic's stream has it.
type sseEvent struct {
	name string
	data map[string]any
}

// writeAnthropicError writes an error in the Messages API's format, which
// Claude Code reads to decide between retrying and giving up.
func writeAnthropicError(w http.ResponseWriter, status int, kind, message string) {
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]string{"type": kind, "message": message}})
}

// errorType names an HTTP status as Anthropic's API does.
func errorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	default:
		return "api_error"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
