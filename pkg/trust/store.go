package trust

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/google/renameio/v2"

	"github.com/paude-dev/paude/pkg/hostpath"
)

// maxRecordSize bounds a trust record; a larger file is not one of ours.
const maxRecordSize = 64 << 20

// digestRe is the form of every digest paude writes.
var digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Inputs are what a start would use from a workspace: its configuration
// file and every file that goes into the image build, with the summary
// the user decides on. The caller, which knows the configuration format
// and the build, fills it.
type Inputs struct {
	// Workspace is the workspace's absolute path.
	Workspace string
	// ConfigPath is the configuration file's absolute path, "" when the
	// workspace has none (then no trust is needed).
	ConfigPath string
	// Files are the build inputs' absolute paths: the build context (a
	// directory stands for every entry a build would send from it, after
	// its .containerignore or .dockerignore), the pip_install file, ...
	// A file that does not exist is recorded as missing. The Dockerfile of
	// Summary.Build is always included.
	Files []string
	// Summary is what the configuration lets a session do.
	Summary Summary
}

// Store keeps the trust records of one user: one file per workspace,
// named by a hash of its path, holding the fingerprint and the summary
// that were trusted.
type Store struct {
	// Dir is the records' directory, created 0700 when needed.
	Dir string
	// Now is the clock for the time a trust is recorded; nil is time.Now.
	Now func() time.Time
}

// DefaultStore is the user's store: paude/trust in the user's
// configuration directory ($XDG_CONFIG_HOME or ~/.config, on macOS too).
func DefaultStore() (*Store, error) {
	dir, err := hostpath.Config.Dir()
	if err != nil {
		return nil, fmt.Errorf("failed to find the configuration directory for trust records: %w", err)
	}
	return &Store{Dir: filepath.Join(dir, "paude", "trust")}, nil
}

// record is one trust record as stored.
type record struct {
	Version   int               `json:"version"`
	Workspace string            `json:"workspace"`
	Config    string            `json:"config"`
	Digest    string            `json:"digest"`
	Files     map[string]string `json:"files"`
	Summary   Summary           `json:"summary"`
	TrustedAt time.Time         `json:"trustedAt"`
}

// Check compares a workspace's inputs with what the user trusted. It
// reads every input (so it costs about what hashing the image build's
// inputs does) and changes nothing. A stored record that cannot be read or
// does not add up makes the workspace untrusted (FirstUse) and is named in
// Status.Problem; it never makes it trusted.
func (s *Store) Check(in Inputs) (*Status, error) {
	ws, err := canonical(in.Workspace)
	if err != nil {
		return nil, err
	}
	// Inputs are named relative to the workspace as the caller spells
	// it; the record is found by its canonical path.
	root, err := filepath.Abs(in.Workspace)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve workspace %q: %w", in.Workspace, err)
	}
	st := &Status{Workspace: ws, root: root}
	if in.ConfigPath == "" {
		st.State = NoConfig
		return st, nil
	}
	if err := s.checkOutside(ws); err != nil {
		return nil, err
	}
	st.ConfigPath = in.ConfigPath
	st.current, err = takeFingerprint(ws, root, in)
	if err != nil {
		return nil, err
	}
	st.previous, st.Problem = s.load(ws)
	switch {
	case st.previous == nil:
		st.State = FirstUse
	case st.previous.Digest == st.current.Digest:
		st.State = Trusted
	default:
		st.State = Changed
	}
	return st, nil
}

// Trust records the fingerprint Check took: exactly what was shown, even
// if a file changed since. The record is written atomically, 0600 in a
// 0700 directory.
func (s *Store) Trust(st *Status) error {
	if st.current == nil {
		return errors.New("nothing to trust: the workspace has no configuration file")
	}
	if err := s.checkOutside(st.Workspace); err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	rec := record{
		Version: formatVersion, Workspace: st.Workspace, Config: st.current.Config,
		Digest: st.current.Digest, Files: st.current.Files, Summary: st.current.Summary,
		TrustedAt: now().UTC().Truncate(time.Second),
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to encode the trust record: %w", err)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("failed to create the trust store %s: %w", s.Dir, err)
	}
	// The directory may predate us with wider rights; records are ours.
	if err := os.Chmod(s.Dir, 0o700); err != nil {
		return fmt.Errorf("failed to restrict the trust store %s to its owner: %w", s.Dir, err)
	}
	if err := writeAtomic(s.Dir, s.path(st.Workspace), append(data, '\n')); err != nil {
		return fmt.Errorf("failed to write the trust record: %w", err)
	}
	st.previous, st.Problem, st.State = &rec, nil, Trusted
	return nil
}

// Revoke forgets a workspace's trust and reports whether there was one.
func (s *Store) Revoke(workspace string) (bool, error) {
	ws, err := canonical(workspace)
	if err != nil {
		return false, err
	}
	err = os.Remove(s.path(ws))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("failed to remove the trust record of %s: %w", ws, err)
	}
	return true, nil
}

// path is the record file of a workspace.
func (s *Store) path(ws string) string {
	sum := sha256.Sum256([]byte(ws))
	return filepath.Join(s.Dir, hex.EncodeToString(sum[:16])+".json")
}

// checkOutside refuses a store the agent could write: one inside the
// workspace, which the session mounts or syncs. The store may not exist
// yet; its real name is that of its deepest existing ancestor.
func (s *Store) checkOutside(ws string) error {
	if dir := hostpath.Real(s.Dir); within(ws, dir) {
		return fmt.Errorf("the trust store %s is inside the workspace %s, where the agent can write: run paude in a project directory, not in %s", s.Dir, ws, ws)
	}
	return nil
}

// load reads a workspace's record. No record is (nil, nil); a record that
// cannot be used is (nil, why).
func (s *Store) load(ws string) (*record, error) {
	name := s.path(ws)
	rec, err := readRecord(name, ws)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("trust record %s is unusable (%w): the workspace is treated as untrusted", name, err)
	}
	return rec, nil
}

// readRecord reads and checks one record file.
func readRecord(name, ws string) (*record, error) {
	if info, err := os.Stat(filepath.Dir(name)); err == nil && info.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("its directory is writable by other users")
	}
	info, err := os.Lstat(name)
	switch {
	case err != nil:
		return nil, err
	case !info.Mode().IsRegular():
		return nil, fmt.Errorf("not a regular file")
	case info.Mode().Perm()&0o022 != 0:
		return nil, fmt.Errorf("writable by other users")
	case info.Size() > maxRecordSize:
		return nil, fmt.Errorf("larger than %d bytes", maxRecordSize)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rec record
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch {
	case rec.Version != formatVersion:
		return nil, fmt.Errorf("version %d, expected %d", rec.Version, formatVersion)
	case rec.Workspace != ws:
		return nil, fmt.Errorf("it is for workspace %q", rec.Workspace)
	case !digestRe.MatchString(rec.Digest):
		return nil, fmt.Errorf("malformed digest %q", rec.Digest)
	}
	// The digest must be that of the rest of the record: a record edited
	// by hand, or damaged, is not the user's decision.
	want, err := digestOf(ws, rec.Config, rec.Files, rec.Summary)
	if err != nil {
		return nil, err
	}
	if want != rec.Digest {
		return nil, fmt.Errorf("its digest does not match its content")
	}
	return &rec, nil
}

// canonical returns the real name (hostpath.Real) of an existing
// workspace path, so that one workspace has one record.
func canonical(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("failed to resolve workspace %q: %w", p, err)
	}
	if _, err := filepath.EvalSymlinks(abs); err != nil {
		return "", fmt.Errorf("failed to resolve workspace %q: %w", p, err)
	}
	return hostpath.Real(abs), nil
}

// writeAtomic replaces name with data: a temporary file in dir, mode 0600
// whatever the file had, synced and renamed over name.
func writeAtomic(dir, name string, data []byte) error {
	f, err := renameio.NewPendingFile(name, renameio.WithTempDir(dir), renameio.WithStaticPermissions(0o600))
	if err != nil {
		return err
	}
	defer func() { _ = f.Cleanup() }()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.CloseAtomicallyReplace()
}
