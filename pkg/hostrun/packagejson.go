package hostrun

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
)

// packageJSONDigest hashes only the keys of package.json that run
// commands (packageJSONKeys), re-encoded so that formatting does not
// count; a version bump or a new dependency leaves it unchanged. A file
// that is not a JSON object counts as a whole: npm would refuse it, and
// the user should see it changed.
func packageJSONDigest(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "unreadable"
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		sum := sha256.Sum256(b)
		return "sha256:" + hex.EncodeToString(sum[:]) + " invalid-json"
	}
	picked := map[string]any{}
	for _, k := range packageJSONKeys {
		if v, ok := doc[k]; ok {
			picked[k] = v
		}
	}
	// encoding/json sorts map keys, so equal content encodes equally.
	canon, err := json.Marshal(picked)
	if err != nil {
		return "unreadable"
	}
	sum := sha256.Sum256(canon)
	return "json-scripts:" + hex.EncodeToString(sum[:])
}
