package podmancli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFailedStep(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"build-failed.txt", `"RUN echo \"boom\": && exit 3" failed: while running runtime: exit status 3`},
		{"build-failed-noline.txt", `"COPY missing /x" failed: checking on sources under "/tmp/ctx": copier: stat: "/missing": no such file or directory`},
		{"build-failed-nostep.txt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := failedStep(string(out)); got != tt.want {
				t.Errorf("failedStep:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestBuildErrorMessage(t *testing.T) {
	withStep := &BuildError{Image: "paude-workspace:abc", Step: `"RUN exit 3" failed: exit status 3`}
	if got := withStep.Error(); got != `failed to build image paude-workspace:abc: step "RUN exit 3" failed: exit status 3: fix that step (or the configuration that produced it) and start again` {
		t.Errorf("with step: %s", got)
	}
	noStep := &BuildError{Image: "x:1", Output: "a\nError: no space left on device\n"}
	if got := noStep.Error(); got != "failed to build image x:1: Error: no space left on device: see the build output above" {
		t.Errorf("without step: %s", got)
	}
	if !IsBuildError(fmt.Errorf("wrapped: %w", noStep)) || IsBuildError(os.ErrNotExist) {
		t.Error("IsBuildError does not see through wrapping")
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 10}
	for _, s := range []string{"0123", "456789", "abc"} {
		if n, err := tb.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := tb.String(); got != "3456789abc" {
		t.Errorf("kept %q", got)
	}
	lines := &tailBuffer{max: 1 << 10}
	for i := range 20 {
		fmt.Fprintf(lines, "line %d\n", i)
	}
	if got := lines.lastLines(3); got != "line 17\nline 18\nline 19" {
		t.Errorf("lastLines = %q", got)
	}
	if got := strings.Count(lines.lastLines(50), "\n"); got != 19 {
		t.Errorf("lastLines(50) has %d newlines", got)
	}
}
