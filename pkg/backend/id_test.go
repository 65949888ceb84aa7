package backend

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestNewSessionID(t *testing.T) {
	now := time.Unix(1700000000, 0)
	id, err := NewSessionID(now, bytes.NewReader([]byte{0xde, 0xad, 0xbe, 0xef}))
	if err != nil {
		t.Fatal(err)
	}
	if id != "1700000000-deadbeef" {
		t.Fatalf("got %q", id)
	}
	if err := ValidateSessionID(id); err != nil {
		t.Fatalf("generated id does not validate: %v", err)
	}
	if _, err := NewSessionID(now, bytes.NewReader(nil)); err == nil {
		t.Fatal("expected an error from an empty random source")
	}
}

func TestValidateSessionID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string
	}{
		{id: "1700000000-deadbeef"},
		{id: "abc"},
		{id: "", wantErr: "must not be empty"},
		{id: "UPPER", wantErr: "invalid session id"},
		{id: "a;rm -rf /", wantErr: "invalid session id"},
		{id: "../etc", wantErr: "invalid session id"},
		{id: strings.Repeat("a", 64), wantErr: "invalid session id"},
		{id: "-lead", wantErr: "invalid session id"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := ValidateSessionID(tt.id)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNotFoundError(t *testing.T) {
	err := error(&NotFoundError{ID: "x", Known: []string{"a", "b"}})
	if got := err.Error(); got != `session "x" not found: known sessions are a, b` {
		t.Fatalf("got %q", got)
	}
	if !strings.Contains((&NotFoundError{ID: "x"}).Error(), "there are no sessions") {
		t.Fatal("empty known list should say there are no sessions")
	}
	if !IsUnavailable(&UnavailableError{Backend: Podman, Reason: "r"}) {
		t.Fatal("IsUnavailable")
	}
}
