package sync

import "time"

// SetStopGrace shortens how long Stop waits for DevSpace, for tests.
func SetStopGrace(d *DevSpace, g time.Duration) { d.stopGrace = g }
