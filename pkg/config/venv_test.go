package config

import (
	"io/fs"
	"reflect"
	"testing"
	"testing/fstest"
)

func TestVenvDirs(t *testing.T) {
	venv := &fstest.MapFile{Data: []byte("home = /usr/bin\n")}
	tests := []struct {
		name string
		venv Venv
		fs   fstest.MapFS
		want []string
	}{
		{"auto finds both", Venv{Mode: VenvAuto}, fstest.MapFS{".venv/pyvenv.cfg": venv, "venv/pyvenv.cfg": venv}, []string{".venv", "venv"}},
		{"auto skips a folder that is not a venv", Venv{Mode: VenvAuto}, fstest.MapFS{"venv/main.py": venv}, nil},
		{"auto skips a file named .venv", Venv{Mode: VenvAuto}, fstest.MapFS{".venv": venv}, nil},
		{"auto skips a symlink", Venv{Mode: VenvAuto}, fstest.MapFS{
			".venv":                &fstest.MapFile{Data: []byte("elsewhere"), Mode: fs.ModeSymlink | 0o777},
			"elsewhere/pyvenv.cfg": venv,
		}, nil},
		{"auto with nothing", Venv{Mode: VenvAuto}, fstest.MapFS{}, nil},
		{"none", Venv{Mode: VenvNone}, fstest.MapFS{".venv/pyvenv.cfg": venv}, nil},
		{"list is taken as is", Venv{Mode: VenvList, Dirs: []string{"a/.venv", "missing"}}, fstest.MapFS{}, []string{"a/.venv", "missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Venv: tt.venv}
			got, err := c.VenvDirs(tt.fs)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("VenvDirs = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := (&Config{Venv: Venv{Mode: "sometimes"}}).VenvDirs(fstest.MapFS{}); err == nil {
		t.Error("VenvDirs with an unknown mode succeeded")
	}
}
