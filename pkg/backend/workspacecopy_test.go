package backend_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/sync"
)

// What sync reports can quote the session (a path in a warning): it
// reaches the terminal without escape sequences. The control: the
// warning's text is there.
func TestReportIsPrintable(t *testing.T) {
	var out bytes.Buffer
	backend.Report(&out, sync.Status{Warnings: []string{"could not apply a\x1b]52;c;cGF3bmVk\x07b in the session"}})
	got := out.String()
	if strings.ContainsAny(got, "\x1b\x07") || !strings.Contains(got, "Warning: sync: could not apply a") || !strings.Contains(got, "b in the session") {
		t.Errorf("Report printed %q", got)
	}
}
