package plugin

import (
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/backend"
)

func TestCompletion(t *testing.T) {
	f := &fakeBackend{typ: backend.Podman, sessions: twoSessions("/w")}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "--backend", ""}, "podman\nopenshift\n:4\n"},
		{[]string{"__complete", "attach", ""}, "1700000000-00000old\trunning /elsewhere\n1700000900-00000new\trunning /w\n:4\n"},
		{[]string{"__complete", "stop", "1700000000-00000old", ""}, ":4\n"},
		{[]string{"__complete", "se"}, "sessions\t"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := runCmd(t, KubectlPlugin, f, "", tt.args...)
			if res.code != 0 || !strings.HasPrefix(res.out, tt.want) {
				t.Fatalf("exit %d, out %q, want prefix %q", res.code, res.out, tt.want)
			}
		})
	}
}
