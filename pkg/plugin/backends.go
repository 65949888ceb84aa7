package plugin

import (
	"github.com/paude-dev/paude/pkg/backend"
)

// newBackend is the real backend factory.
func newBackend(o *RootOptions, t backend.Type) (backend.Backend, error) {
	switch t {
	case backend.Podman:
		return nil, &backend.UnavailableError{Backend: t, Reason: "not built into this version of paude"}
	default:
		return nil, &backend.UnavailableError{
			Backend: t,
			Reason:  "not built into this version of paude",
			Hint:    "use --backend=podman",
		}
	}
}
