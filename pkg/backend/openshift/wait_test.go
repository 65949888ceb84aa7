package openshift

import (
	"strings"
	"testing"
)

// A pod's termination message can be the agent's last log lines: an
// escape sequence in it reaches no terminal through an error. The
// control: the message's text is kept.
func TestPodMessagesArePrintable(t *testing.T) {
	osc52 := "\x1b]52;c;cGF3bmVk\x07"
	e := &PodFailedError{Pod: "paude-1", Reason: "Error", Message: "boom" + osc52 + "\nnext line"}
	if got := e.Error(); strings.ContainsAny(got, "\x1b\x07\n") || !strings.Contains(got, "boom") || !strings.Contains(got, "next line") {
		t.Errorf("PodFailedError = %q", got)
	}
	if got := firstLine("\n  first" + osc52 + " line\nsecond"); got != "first line" {
		t.Errorf("firstLine = %q, want %q", got, "first line")
	}
}
