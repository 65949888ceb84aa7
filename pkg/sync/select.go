package sync

import "fmt"

// New returns the Syncer for a sync.method: "native" and "auto" (the
// default) run paude's own engine; "devspace" runs the DevSpace CLI, and
// only when the user chose it. DevSpace is never picked on its own: it
// follows symlinks out of the sync root and applies what the pod sends
// without the checks of package guard, so a hostile pod could write
// outside the workspace through it. A chosen DevSpace that is not
// installed is an *UnavailableError from Start, not a switch to native.
func New(method string, o Options) (Syncer, error) {
	switch method {
	case MethodNative, MethodAuto, "":
		return NewNative(o)
	case MethodDevSpace:
		return NewDevSpace(o)
	}
	return nil, fmt.Errorf("unknown sync method %q: use %q, %q or %q", method, MethodAuto, MethodDevSpace, MethodNative)
}
