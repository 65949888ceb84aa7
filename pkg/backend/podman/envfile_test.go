package podman

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// trickyEnv holds values podman's --env-file reader could be thought to
// change: blanks at either end, quotes, '#' at the start and inside, '=',
// a backslash, '$', an empty value and non-ASCII text.
var trickyEnv = map[string]string{
	"SPACES":  "  two leading, two trailing  ",
	"QUOTES":  `"double" and 'single'`,
	"HASH":    "#not a comment # nor this",
	"EQUALS":  "a=b==c=",
	"SHELL":   `$HOME ${X} \n $(id) ` + "`id`",
	"EMPTY":   "",
	"TAB":     "\tx\t",
	"UNICODE": "grüße ✓",
	"_X1":     "1",
}

func TestRenderEnvFile(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		golden string
	}{
		{"tricky values stay byte for byte", trickyEnv, "tricky.env"},
		{"one variable", map[string]string{"ANTHROPIC_VERTEX_PROJECT_ID": "my-project"}, "one.env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderEnvFile(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "envfile", tt.golden)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("env file differs\n got: %q\nwant: %q", got, want)
			}
			// Every line after the header is KEY=VALUE of one variable,
			// in key order: what podman's line reader gives back.
			lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
			if lines[0] != strings.TrimSuffix(envFileHeader, "\n") {
				t.Errorf("first line %q is not the header", lines[0])
			}
			keys := sortedKeys(tt.env)
			if len(lines)-1 != len(keys) {
				t.Fatalf("%d variable lines for %d variables", len(lines)-1, len(keys))
			}
			for i, k := range keys {
				if lines[i+1] != k+"="+tt.env[k] {
					t.Errorf("line %d = %q, want %q", i+2, lines[i+1], k+"="+tt.env[k])
				}
			}
		})
	}
}

func TestRenderEnvFileRefuses(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"newline", map[string]string{"OK": "1", "KEY": "line1\nINJECTED=1"}, "cannot pass KEY to the session: its value has a line break"},
		{"carriage return", map[string]string{"KEY": "v\r"}, "its value has a line break"},
		{"NUL", map[string]string{"KEY": "a\x00b"}, "NUL"},
		{"key with =", map[string]string{"A=B": "c"}, `"A=B" is not a variable name`},
		{"key starting with #", map[string]string{"#A": "c"}, "is not a variable name"},
		{"key with a blank", map[string]string{" A": "c"}, "is not a variable name"},
		{"glob key", map[string]string{"A*": "c"}, "is not a variable name"},
		{"empty key", map[string]string{"": "c"}, "is not a variable name"},
		{"key starting with a digit", map[string]string{"1A": "c"}, "is not a variable name"},
		{"line too long", map[string]string{"K": strings.Repeat("v", maxEnvFileLine)}, "more than podman's --env-file reads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderEnvFile(tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q (content %q)", err, tt.wantErr, got)
			}
		})
	}
}

func TestWriteEnvFile(t *testing.T) {
	t.Run("private file in a private directory, removed on request", func(t *testing.T) {
		dir := t.TempDir()
		path, remove, err := writeEnvFile(dir, map[string]string{"TOKEN": "s3cret value"})
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(filepath.Dir(path)) != dir || filepath.Base(path) != envFileName {
			t.Errorf("path %s is not <dir>/<private dir>/%s", path, envFileName)
		}
		checkMode(t, path, 0o600)
		checkMode(t, filepath.Dir(path), 0o700|os.ModeDir)
		if b, _ := os.ReadFile(path); string(b) != envFileHeader+"TOKEN=s3cret value\n" {
			t.Errorf("content %q", b)
		}
		remove()
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left behind: %v", entries)
		}
	})
	t.Run("an open umask does not open the file", func(t *testing.T) {
		// The tests of this package do not run in parallel: the umask
		// is the process's.
		defer syscall.Umask(syscall.Umask(0))
		dir := t.TempDir()
		path, remove, err := writeEnvFile(dir, map[string]string{"A": "1"})
		if err != nil {
			t.Fatal(err)
		}
		defer remove()
		checkMode(t, path, 0o600)
		checkMode(t, filepath.Dir(path), 0o700|os.ModeDir)
	})
	t.Run("no variables, no file", func(t *testing.T) {
		dir := t.TempDir()
		path, remove, err := writeEnvFile(dir, nil)
		if err != nil || path != "" {
			t.Fatalf("path %q, err %v", path, err)
		}
		remove()
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("created: %v", entries)
		}
	})
	t.Run("a refused value creates nothing", func(t *testing.T) {
		dir := t.TempDir()
		if _, _, err := writeEnvFile(dir, map[string]string{"K": "a\nb"}); err == nil {
			t.Fatal("a value with a newline was written")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("created: %v", entries)
		}
	})
	t.Run("an unusable directory is an error", func(t *testing.T) {
		_, _, err := writeEnvFile(filepath.Join(t.TempDir(), "missing"), map[string]string{"K": "v"})
		if err == nil || !strings.Contains(err.Error(), "failed to create a private directory") {
			t.Fatalf("error = %v", err)
		}
	})
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != want {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode(), want)
	}
}

func TestPodmanVersion(t *testing.T) {
	for out, want := range map[string]string{
		"podman version 4.3.1\n":        "4.3.1",
		"podman-remote version 4.7.0\n": "4.7.0",
		"podman version 5.0.0-dev":      "5.0.0-dev",
		"":                              "",
		"garbage":                       "",
	} {
		if got := podmanVersion(out); got != want {
			t.Errorf("podmanVersion(%q) = %q, want %q", out, got, want)
		}
	}
}

func TestCheckEnvFileReader(t *testing.T) {
	passed := map[string]string{"K": "v"}
	tests := []struct {
		name    string
		version string
		passed  map[string]string
		wantErr string
		calls   []string
	}{
		{"4.3.1 reads lines", "podman version 4.3.1\n", passed, "", []string{"--version"}},
		{"4.7.1 reads lines again", "podman version 4.7.1\n", passed, "", []string{"--version"}},
		{"5.x reads lines", "podman version 5.4.2\n", passed, "", []string{"--version"}},
		{"4.7.0 is refused", "podman version 4.7.0\n", passed,
			"podman 4.7.0 misreads --env-file values (it strips quotes and '#' comments), which paude uses to keep env values off the command line: upgrade podman to 4.7.1 or later",
			[]string{"--version"}},
		{"a 4.7.0 remote client is refused", "podman-remote version 4.7.0-rc1\n", passed, "podman 4.7.0-rc1 misreads", []string{"--version"}},
		{"no file, no question", "", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("--version", tt.version, nil)
			err := newTestBackend(t, f, Options{}).checkEnvFileReader(context.Background(), tt.passed)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			diffCalls(t, f.Calls(), tt.calls)
		})
	}
}
