package podman

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The values of the agent's environment that come from the configuration
// or the host may be secrets. A process's argv is readable by every local
// user (ps, /proc/<pid>/cmdline) while it runs, so these values never go
// on podman's command line: `podman create` reads them from an env file
// that only the user can read and that exists only while podman create
// runs.
//
// podman reads the file on the client side, line by line (every release
// but 4.7.0): leading blanks are dropped, a line starting with '#' is a
// comment, KEY=VALUE sets KEY to everything after the first '=', byte for
// byte, and a bare KEY (or KEY*) copies podman's own environment. So a
// line written here is always KEY=VALUE with a plain variable name and a
// value without line breaks (podman would end the value there, and
// drops a trailing '\r'), no longer than its line reader takes. Spaces,
// quotes, '#' and '=' in a value are then kept as they are.

// envFileName is the env file's name inside its private directory.
const envFileName = "agent.env"

// envFileHeader is the file's first line: a comment for whoever finds a
// file left behind by a killed paude.
const envFileHeader = "# paude: environment of a session container, read by podman create --env-file; safe to delete\n"

// maxEnvFileLine is the longest line podman reads from an env file: its
// line reader (bufio.Scanner) gives up on longer ones with "token too
// long".
const maxEnvFileLine = 64*1024 - 1

// envFileKey matches the names podman reads as KEY=VALUE and nothing
// else: no '=', no blank, no '#' or '*' (the config accepts the same).
var envFileKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkEnvFileVar says why KEY=VALUE cannot be a line of an env file, or
// returns nil when podman reads it back exactly.
func checkEnvFileVar(key, value string) error {
	switch {
	case !envFileKey.MatchString(key):
		return fmt.Errorf("%q is not a variable name: use letters, digits and '_', not starting with a digit", key)
	case strings.ContainsAny(value, "\n\r"):
		return errors.New("its value has a line break, which podman's --env-file cannot carry: put the value on one line (for example base64-encoded) or in a file in the workspace")
	case strings.ContainsRune(value, 0):
		return errors.New("its value contains a NUL character: remove it")
	case len(key)+1+len(value) > maxEnvFileLine:
		return fmt.Errorf("its value is %d bytes, more than podman's --env-file reads for it (%d): put a shorter value, or the value in a file in the workspace", len(value), maxEnvFileLine-len(key)-1)
	}
	return nil
}

// renderEnvFile is the env file's exact content: the header, then one
// KEY=VALUE line per variable in key order.
func renderEnvFile(env map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(envFileHeader)
	for _, k := range sortedKeys(env) {
		if err := checkEnvFileVar(k, env[k]); err != nil {
			return nil, fmt.Errorf("cannot pass %s to the session: %w", k, err)
		}
		b.WriteString(k + "=" + env[k] + "\n")
	}
	return b.Bytes(), nil
}

// writeEnvFile writes env to a new file, mode 0600, in a new directory,
// mode 0700, under dir ("" = os.TempDir()), so no other user can read it
// or swap it. remove deletes both; call it as soon as podman has read the
// file. An empty env needs no file: path is "" and remove does nothing.
func writeEnvFile(dir string, env map[string]string) (path string, remove func(), err error) {
	if len(env) == 0 {
		return "", func() {}, nil
	}
	content, err := renderEnvFile(env)
	if err != nil {
		return "", nil, err
	}
	private, err := os.MkdirTemp(dir, "paude-env-")
	if err != nil {
		return "", nil, fmt.Errorf("failed to create a private directory for the session's env file: %w", err)
	}
	remove = func() { _ = os.RemoveAll(private) }
	path = filepath.Join(private, envFileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		remove()
		return "", nil, fmt.Errorf("failed to create the session's env file: %w", err)
	}
	_, werr := f.Write(content)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		remove()
		return "", nil, fmt.Errorf("failed to write the session's env file %s: %w", path, werr)
	}
	return path, remove, nil
}

// createAgent runs the agent's `podman create`. The configuration's and
// the host's values travel in an env file that is removed as soon as
// podman returns, whether it succeeded or not.
func (b *Backend) createAgent(ctx context.Context, spec agentSpec, passed map[string]string) error {
	path, remove, err := writeEnvFile(b.opts.EnvFileDir, passed)
	if err != nil {
		return err
	}
	defer remove()
	spec.EnvFile = path
	_, err = b.runner.Run(ctx, createAgentArgs(spec))
	return err
}

// envFileBrokenVersion is the podman release whose --env-file reader
// strips quotes and "#" comments from values and fills an empty value from
// podman's own environment (podman 4.7.0 only; 4.7.1 went back to the line
// reader described above).
const envFileBrokenVersion = "4.7.0"

// checkEnvFileReader refuses a podman client that would misread the env
// file. It asks only when there is a file to read.
func (b *Backend) checkEnvFileReader(ctx context.Context, passed map[string]string) error {
	if len(passed) == 0 {
		return nil
	}
	out, err := b.runner.Run(ctx, versionArgs())
	if err != nil {
		return fmt.Errorf("failed to ask podman for its version: %w", err)
	}
	v := podmanVersion(string(out))
	if v == envFileBrokenVersion || strings.HasPrefix(v, envFileBrokenVersion+"-") {
		return fmt.Errorf("podman %s misreads --env-file values (it strips quotes and '#' comments), which paude uses to keep env values off the command line: upgrade podman to 4.7.1 or later", v)
	}
	return nil
}

// podmanVersion is the version in `podman --version` output ("podman
// version 5.2.1", "podman-remote version 4.9.3"), "" when there is none.
func podmanVersion(out string) string {
	f := strings.Fields(out)
	if len(f) < 3 || f[len(f)-2] != "version" {
		return ""
	}
	return f[len(f)-1]
}
