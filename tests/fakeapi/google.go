package fakeapi

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
)

// vertexPath matches a Vertex AI call to an Anthropic model: project,
// location, model and method.
var vertexPath = regexp.MustCompile(`^/v1(?:beta1)?/projects/([^/]+)/locations/([^/]+)/publishers/anthropic/models/([^/:]+):(rawPredict|streamRawPredict)$`)

// serveToken answers Google's OAuth token endpoint the way it answers the
// refresh of an authorized_user ADC file: the refresh token in the form
// must be RefreshToken, and the answer carries AccessToken.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, rec *Request) {
	if r.Method != http.MethodPost || rec.Path != "/token" {
		rec.Status = http.StatusNotFound
		http.Error(w, "fakeapi: no fake for "+r.Method+" "+rec.Path, rec.Status)
		return
	}
	rec.Call = CallToken
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		rec.Status = http.StatusBadRequest
		writeJSON(w, rec.Status, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	rec.Auth = s.RefreshToken != "" && r.PostForm.Get("grant_type") == "refresh_token" && r.PostForm.Get("refresh_token") == s.RefreshToken
	if !rec.Auth {
		rec.Status = http.StatusBadRequest
		writeJSON(w, rec.Status, map[string]string{"error": "invalid_grant", "error_description": "Bad Request"})
		return
	}
	rec.Status = http.StatusOK
	writeJSON(w, rec.Status, map[string]any{
		"access_token": s.AccessToken, "expires_in": 3599, "token_type": "Bearer",
		"scope": "https://www.googleapis.com/auth/cloud-platform",
	})
}

// serveClaudeToken answers a Claude account's OAuth token endpoint for a
// refresh: a JSON body whose refresh_token is RefreshToken gets
// AccessToken (and the same refresh token back, as a rotation would).
func (s *Server) serveClaudeToken(w http.ResponseWriter, r *http.Request, rec *Request) {
	if r.Method == http.MethodGet && rec.Path == "/v1/oauth/hello" {
		serveHello(w, rec)
		return
	}
	if r.Method != http.MethodPost || rec.Path != "/v1/oauth/token" {
		rec.Status = http.StatusNotFound
		http.Error(w, "fakeapi: no fake for "+r.Method+" "+rec.Path, rec.Status)
		return
	}
	rec.Call = CallClaudeToken
	var body struct {
		GrantType    string `json:"grant_type"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&body); err != nil {
		rec.Status = http.StatusBadRequest
		writeJSON(w, rec.Status, map[string]string{"error": "invalid_request", "error_description": "body is not JSON: " + err.Error()})
		return
	}
	rec.Auth = s.RefreshToken != "" && body.GrantType == "refresh_token" && body.RefreshToken == s.RefreshToken
	if !rec.Auth {
		rec.Status = http.StatusBadRequest
		writeJSON(w, rec.Status, map[string]string{"error": "invalid_grant", "error_description": "Invalid refresh token"})
		return
	}
	rec.Status = http.StatusOK
	writeJSON(w, rec.Status, map[string]any{
		"access_token": s.AccessToken, "refresh_token": s.RefreshToken, "expires_in": 3600,
		"token_type": "Bearer", "scope": body.Scope,
	})
}

// serveVertex answers Vertex AI's rawPredict and streamRawPredict for
// Anthropic models, which take and give the Messages API's formats. The
// host must be the one for the location in the path (the regional host,
// or aiplatform.googleapis.com for "global"), as a real endpoint refuses
// another region's calls.
func (s *Server) serveVertex(w http.ResponseWriter, r *http.Request, rec *Request, failWith int) {
	m := vertexPath.FindStringSubmatch(rec.Path)
	if r.Method != http.MethodPost || m == nil {
		rec.Status = http.StatusNotFound
		writeGoogleError(w, rec.Status, "fakeapi: no fake for "+r.Method+" "+rec.Path)
		return
	}
	location, model, method := m[2], m[3], m[4]
	rec.Call, rec.Model, rec.Stream = CallVertex, model, method == "streamRawPredict"
	if model == "count-tokens" {
		rec.Call, rec.Model, rec.Stream = CallCountTokens, "", false
	}
	rec.Auth = s.AccessToken != "" && r.Header.Get("Authorization") == "Bearer "+s.AccessToken
	body, err := readMessagesRequest(r)
	rec.Stream = rec.Stream || body.Stream
	switch {
	case err != nil:
		rec.Status = http.StatusBadRequest
		writeGoogleError(w, rec.Status, err.Error())
	case VertexHost(location) != rec.Host:
		rec.Status = http.StatusBadRequest
		writeGoogleError(w, rec.Status, "location "+location+" is not served by "+rec.Host+": use "+VertexHost(location))
	case !rec.Auth:
		rec.Status = http.StatusUnauthorized
		writeGoogleError(w, rec.Status, "Request had invalid authentication credentials.")
	case failWith != 0:
		rec.Status = failWith
		writeGoogleError(w, rec.Status, "fakeapi: told to fail")
	case rec.Call == CallCountTokens:
		rec.Status = http.StatusOK
		writeJSON(w, rec.Status, map[string]int{"input_tokens": 42})
	default:
		rec.Status = http.StatusOK
		s.writeMessage(w, model, rec.Stream)
	}
}

// writeGoogleError writes an error in Google APIs' JSON format.
func writeGoogleError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "message": message, "status": googleStatus(status),
	}})
}

// googleStatus names an HTTP status as Google's canonical error codes do.
func googleStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	default:
		return "INTERNAL"
	}
}
