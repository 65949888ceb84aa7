package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// tagLen is how many hex digits of the hash a tag keeps.
const tagLen = 12

// hashVersion starts every hash; change it when the framing changes.
const hashVersion = "paude-image-hash/v1"

// ignoreFiles are the context ignore files Podman honours, in its order of
// preference.
var ignoreFiles = []string{".containerignore", ".dockerignore"}

// digest hashes a sequence of named records. Each record is framed with its
// kind and length, so no two different sequences hash the same.
type digest struct {
	h hash.Hash
}

func newDigest(kind string) *digest {
	d := &digest{h: sha256.New()}
	d.add("version", []byte(hashVersion))
	d.add("kind", []byte(kind))
	return d
}

// add records one named value.
func (d *digest) add(kind string, data []byte) {
	fmt.Fprintf(d.h, "%s %d\n", kind, len(data))
	d.h.Write(data)
	d.h.Write([]byte{'\n'})
}

// addStream records one named value read from r, which must hold exactly
// size bytes.
func (d *digest) addStream(kind string, size int64, r io.Reader) error {
	fmt.Fprintf(d.h, "%s %d\n", kind, size)
	n, err := io.Copy(d.h, r)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("size changed while reading (%d bytes, expected %d)", n, size)
	}
	d.h.Write([]byte{'\n'})
	return nil
}

// addMap records a string map in key order.
func (d *digest) addMap(kind string, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d.add(kind, []byte(fmt.Sprint(len(keys))))
	for _, k := range keys {
		d.add(kind+".key", []byte(k))
		d.add(kind+".value", []byte(m[k]))
	}
}

// sum returns the full hex digest.
func (d *digest) sum() string {
	return hex.EncodeToString(d.h.Sum(nil))
}

// tag returns name:<first 12 hex digits>.
func (d *digest) tag(name string) string {
	return name + ":" + d.sum()[:tagLen]
}

// addFile records a file's content, read from disk.
func (d *digest) addFile(kind, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", name)
	}
	return d.addStream(kind, info.Size(), f)
}

// addContext records every entry of a build context directory that a
// build would send, in lexical order: relative path, type and permission
// bits, and a file's content or a symlink's target. The context's
// .containerignore or .dockerignore is honoured as Podman does; a file
// type a build cannot send (socket, device, pipe) is an error, never
// skipped silently.
func (d *digest) addContext(root string) error {
	info, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("failed to read build context: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("build context %s is not a directory", root)
	}
	matcher, err := contextIgnore(d, root)
	if err != nil {
		return err
	}
	return filepath.WalkDir(root, func(name string, entry fs.DirEntry, walkErr error) error {
		if walkErr != nil {
			return fmt.Errorf("failed to read build context: %w", walkErr)
		}
		rel, err := filepath.Rel(root, name)
		if err != nil {
			return fmt.Errorf("failed to read build context: %w", err)
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if matcher != nil {
			drop, skipDir, err := ignored(matcher, rel, entry.IsDir())
			switch {
			case err != nil:
				return fmt.Errorf("failed to apply the ignore file of build context %s: %w", root, err)
			case skipDir:
				return fs.SkipDir
			case drop:
				return nil
			}
		}
		return d.addEntry(name, rel, entry)
	})
}

// addEntry records one context entry.
func (d *digest) addEntry(name, rel string, entry fs.DirEntry) error {
	info, err := entry.Info()
	if err != nil {
		return fmt.Errorf("failed to read build context entry %s: %w", rel, err)
	}
	mode := info.Mode()
	d.add("entry", []byte(rel))
	d.add("mode", []byte((mode & (fs.ModeType | fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)).String()))
	switch {
	case mode.IsDir():
		return nil
	case mode.IsRegular():
		if err := d.addFile("content", name); err != nil {
			return fmt.Errorf("failed to read build context file %s: %w", rel, err)
		}
		return nil
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(name)
		if err != nil {
			return fmt.Errorf("failed to read build context symlink %s: %w", rel, err)
		}
		d.add("target", []byte(target))
		return nil
	default:
		return fmt.Errorf("build context entry %s is a %s, which a build cannot send: remove it or list it in .dockerignore", rel, describeType(mode))
	}
}

func describeType(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe"
	case mode&fs.ModeDevice != 0:
		return "device"
	default:
		return "special file"
	}
}

// contextIgnore reads the context's ignore file, records its patterns, and
// returns their matcher (nil when there is none).
func contextIgnore(d *digest, root string) (*patternmatcher.PatternMatcher, error) {
	for _, name := range ignoreFiles {
		f, err := os.Open(filepath.Join(root, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read %s of build context: %w", name, err)
		}
		defer f.Close()
		patterns, err := ignorefile.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s of build context %s: %w", name, root, err)
		}
		d.add("ignore-file", []byte(name))
		d.add("ignore-patterns", []byte(strings.Join(patterns, "\n")))
		m, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, fmt.Errorf("invalid pattern in %s of build context %s: %w", name, root, err)
		}
		return m, nil
	}
	return nil, nil
}

// ignored decides whether the ignore patterns drop rel, and whether the
// walk may skip all of a dropped directory: only when no exclusion
// ("!pattern") could bring back something inside it. Otherwise every entry
// below is decided on its own, so nothing a build sends is left out.
func ignored(m *patternmatcher.PatternMatcher, rel string, isDir bool) (drop, skipDir bool, err error) {
	match, err := m.MatchesOrParentMatches(rel)
	if err != nil || !match {
		return false, false, err
	}
	return true, isDir && !m.Exclusions(), nil
}
