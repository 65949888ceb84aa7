package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/hostpath"
)

func TestCheckWorkspacePath(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "users", "me")
	project := filepath.Join(home, "src", "project")
	if err := os.MkdirAll(project, 0o755); err != nil {
		t.Fatal(err)
	}
	linkToHome := filepath.Join(root, "home-link")
	if err := os.Symlink(home, linkToHome); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ws, home, wantErr string
	}{
		{"a project below home", project, home, ""},
		{"a directory beside home", filepath.Join(root, "users"), filepath.Join(root, "users2"), ""},
		{"home itself", home, home, "it is your home directory"},
		{"home with a trailing slash", home + "/", home, "it is your home directory"},
		{"home through a symlink", linkToHome, home, "it is your home directory"},
		{"the parent of home", filepath.Join(root, "users"), home, "it contains your home directory"},
		{"an ancestor of home", root, home, "it contains your home directory"},
		{"the root", "/", home, "it is the root directory"},
		{"the root without a home", "/", "", "it is the root directory"},
		{"no home known", project, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckWorkspacePath(tt.ws, tt.home)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "start the session from a project directory") {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestCheckWorkspacePathFoldsCase is a Mac's case-insensitive disk: the
// home typed in another case is still the home.
func TestCheckWorkspacePathFoldsCase(t *testing.T) {
	dirs := map[string][]string{"/": {"Users"}, "/Users": {"me"}, "/Users/me": {"src"}, "/Users/me/src": {"Proj"}}
	mac := hostpath.Resolver{FoldCase: true, ReadDirNames: func(d string) ([]string, error) { return dirs[d], nil }}
	tests := []struct{ name, ws, wantErr string }{
		{"home in another case", "/users/ME", "it is your home directory"},
		{"above home in another case", "/USERS", "it contains your home directory"},
		{"a project in another case", "/users/me/src/proj", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkWorkspacePath(tt.ws, "/Users/me", mac.Real)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
