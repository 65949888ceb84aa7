package podman

import (
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/hostrun"
)

func TestReadOnlyMounts(t *testing.T) {
	tests := []struct {
		name    string
		ro      []string
		want    []string
		wantErr string
	}{
		{"nothing", nil, nil, ""},
		{"a path at the top needs no pinning", []string{".husky", ".pre-commit-config.yaml"},
			[]string{"/w/.husky:/w/.husky:ro", "/w/.pre-commit-config.yaml:/w/.pre-commit-config.yaml:ro"}, ""},
		{"every directory above a nested .git is pinned, parents first", []string{"third_party/a/sub/.git", "vendor/lib/.git"},
			[]string{"/w/third_party:/w/third_party", "/w/vendor:/w/vendor",
				"/w/third_party/a:/w/third_party/a", "/w/vendor/lib:/w/vendor/lib",
				"/w/third_party/a/sub:/w/third_party/a/sub", "/w/vendor/lib/.git:/w/vendor/lib/.git:ro",
				"/w/third_party/a/sub/.git:/w/third_party/a/sub/.git:ro"}, ""},
		{"a shared parent is pinned once", []string{"mods/a/.git", "mods/b/.git"},
			[]string{"/w/mods:/w/mods", "/w/mods/a:/w/mods/a", "/w/mods/b:/w/mods/b",
				"/w/mods/a/.git:/w/mods/a/.git:ro", "/w/mods/b/.git:/w/mods/b/.git:ro"}, ""},
		{"a path podman cannot mount is refused", []string{"odd:name/.git"}, nil, "cannot mount a path with ':' or ','"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := readOnlyMounts("/w", &hostrun.Snapshot{ReadOnly: tt.ro})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.flag())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("mounts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
