package hostpath

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBaseIn(t *testing.T) {
	tests := []struct {
		name    string
		base    Base
		env     map[string]string
		home    string
		want    string
		wantErr string
	}{
		{"config below home", Config, nil, "/Users/me", "/Users/me/.config", ""},
		{"cache below home", Cache, nil, "/Users/me", "/Users/me/.cache", ""},
		{"state below home", State, nil, "/Users/me", "/Users/me/.local/state", ""},
		{"the variable wins", Config, map[string]string{"XDG_CONFIG_HOME": "/x/conf/"}, "/Users/me", "/x/conf", ""},
		{"another base's variable does not count", Cache, map[string]string{"XDG_CONFIG_HOME": "/x/conf"}, "/Users/me", "/Users/me/.cache", ""},
		{"a relative variable is ignored", State, map[string]string{"XDG_STATE_HOME": "state"}, "/home/me", "/home/me/.local/state", ""},
		{"the variable without a home", Cache, map[string]string{"XDG_CACHE_HOME": "/c"}, "", "/c", ""},
		{"no variable and no home", Config, nil, "", "", "neither $XDG_CONFIG_HOME nor $HOME is set: set HOME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.base.In(func(k string) string { return tt.env[k] }, tt.home)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("In = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("Dir reads this process's environment", func(t *testing.T) {
		t.Setenv("HOME", "/Users/me")
		t.Setenv("XDG_CACHE_HOME", "")
		if got, err := Cache.Dir(); err != nil || got != "/Users/me/.cache" {
			t.Fatalf("Dir = %q, %v", got, err)
		}
	})
}

// TestNoPlatformUserDirs keeps paude's own files where docs/ says they
// are on every platform: os.UserConfigDir and os.UserCacheDir answer
// ~/Library/... on macOS, so no code outside this package calls them.
func TestNoPlatformUserDirs(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == ".git" || d.Name() == "hostpath") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" && (sel.Sel.Name == "UserConfigDir" || sel.Sel.Name == "UserCacheDir") {
				found = append(found, fset.Position(sel.Pos()).String()+": os."+sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("paude's files would move to ~/Library on macOS; use hostpath.Config or hostpath.Cache:\n  %s", strings.Join(found, "\n  "))
	}
}
