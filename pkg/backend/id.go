package backend

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// NewSessionID returns a session ID of the form "<unix seconds>-<8 hex>".
// The time prefix makes IDs sort by age; the random suffix keeps two
// sessions started in the same second apart. A nil random source means
// crypto/rand.
func NewSessionID(now time.Time, random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	var b [4]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("failed to generate session id: %w", err)
	}
	return fmt.Sprintf("%d-%s", now.Unix(), hex.EncodeToString(b[:])), nil
}

// ValidateSessionID checks an ID a user typed before it reaches any API:
// it must be a DNS-1123 label (it becomes part of object names and label
// values on Kubernetes, and of container names on Podman).
func ValidateSessionID(id string) error {
	if id == "" {
		return fmt.Errorf("session id must not be empty")
	}
	if errs := validation.IsDNS1123Label(id); len(errs) > 0 {
		return fmt.Errorf("invalid session id %q: %s: session ids look like 1764270000-3f2a9c1d", id, strings.Join(errs, "; "))
	}
	return nil
}
