package hostpath

import (
	"fmt"
	"os"
	"path/filepath"
)

// Base is one of the XDG base directories.
type Base struct {
	// Env is the variable that overrides it.
	Env string
	// Default is where it is below $HOME when Env holds no absolute path.
	Default string
}

// The base directories paude keeps its files in: trust records in
// Config, registry logins and sync state in Cache, the podman backend's
// squid.conf files and session files in State.
var (
	Config = Base{Env: "XDG_CONFIG_HOME", Default: ".config"}
	Cache  = Base{Env: "XDG_CACHE_HOME", Default: ".cache"}
	State  = Base{Env: "XDG_STATE_HOME", Default: filepath.Join(".local", "state")}
)

// Dir is b for this process: $Env when it is an absolute path (the XDG
// rules ignore a relative one), else Default below $HOME. Unlike
// os.UserConfigDir and os.UserCacheDir it answers the same on macOS as
// on Linux.
func (b Base) Dir() (string, error) {
	home, _ := os.UserHomeDir()
	return b.In(os.Getenv, home)
}

// In is Dir with the environment and the home directory given.
func (b Base) In(getenv func(string) string, home string) (string, error) {
	if d := getenv(b.Env); filepath.IsAbs(d) {
		return filepath.Clean(d), nil
	}
	if home == "" {
		return "", fmt.Errorf("neither $%s nor $HOME is set: set HOME", b.Env)
	}
	return filepath.Join(home, b.Default), nil
}
