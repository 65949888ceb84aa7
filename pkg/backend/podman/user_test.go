package podman

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/image"
)

// TestAgentUser is the agent's --user for the podman hosts users have,
// a Mac's podman machine among them: the files podman's host sees
// belong to the Mac user (UID 501, group staff = 20), and the machine's
// own user has that UID (podman machine init gives it the Mac user's).
func TestAgentUser(t *testing.T) {
	macUser := t.TempDir()
	if os.Geteuid() == 0 {
		if err := os.Chown(macUser, 501, 20); err != nil {
			t.Fatal(err)
		}
	} else if os.Getenv("PAUDE_REQUIRE_ALL") == "1" {
		t.Fatal("giving a directory to UID 501 needs root (PAUDE_REQUIRE_ALL=1)")
	}
	tests := []struct {
		name       string
		configured string
		rootless   bool
		ws         string
		want       string
		wantNote   bool
		needRoot   bool
	}{
		{name: "the configured user wins", configured: "1234:5", ws: macUser, want: "1234:5"},
		// keep-id maps the user podman runs as to the same UID inside; in
		// a rootless machine that is the machine's user, whose UID is the
		// Mac user's.
		{name: "rootless podman: the caller's UID with keep-id", rootless: true, ws: macUser, want: fmt.Sprintf("%d:0", os.Getuid())},
		{name: "a rootful machine and a Mac user's workspace: the owner's UID, group 0", ws: macUser, want: "501:0", needRoot: true},
		{name: "a root-owned workspace: the image's user", ws: "/", want: image.DefaultUser, wantNote: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot && os.Geteuid() != 0 {
				t.Skip("giving a directory to UID 501 needs root")
			}
			b := newTestBackend(t, newFake(t), Options{User: tt.configured})
			var note bytes.Buffer
			got, err := b.agentUser(tt.ws, tt.rootless, &note)
			if err != nil || got != tt.want {
				t.Fatalf("agentUser = %q, %v; want %q", got, err, tt.want)
			}
			if strings.Contains(note.String(), "root owns") != tt.wantNote {
				t.Errorf("note = %q", note.String())
			}
		})
	}
}
