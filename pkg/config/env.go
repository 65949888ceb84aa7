package config

import (
	"regexp"
)

// localEnvRef matches ${localEnv:NAME} and ${localEnv:NAME:default}, the
// devcontainer.json syntax for a variable of the host running paude.
var localEnvRef = regexp.MustCompile(`\$\{localEnv:([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}`)

// expandLocalEnv replaces every ${localEnv:NAME} in s with the host's value
// of NAME, or with the default after a second colon, or with "" when NAME
// is unset and there is no default. Other ${...} forms are left as written.
func expandLocalEnv(s string, lookup func(string) (string, bool)) string {
	return localEnvRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := localEnvRef.FindStringSubmatch(ref)
		if v, ok := lookup(m[1]); ok {
			return v
		}
		return m[2]
	})
}

// hasLocalEnv reports whether s takes a value from the host.
func hasLocalEnv(s string) bool {
	return localEnvRef.MatchString(s)
}
