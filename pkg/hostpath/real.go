package hostpath

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Resolver finds the real name of a path on one kind of file system.
type Resolver struct {
	// FoldCase says the file system finds a name whatever its case and
	// Unicode normalization, and keeps it as it was created (macOS).
	FoldCase bool
	// ReadDirNames lists the entries of a directory; nil reads the real
	// file system.
	ReadDirNames func(dir string) ([]string, error)
}

// Host is the resolver of this machine's file systems: case-folding on
// macOS, where the default volume format is.
var Host = Resolver{FoldCase: runtime.GOOS == "darwin"}

// Real is Host.Real.
func Real(p string) string { return Host.Real(p) }

// Real returns p absolute and clean, with the symlinks of its longest
// existing part resolved, and on a case-folding file system each name
// spelled as its directory lists it. A part that does not exist yet (a
// directory paude is about to create) or cannot be listed is kept as
// given, so Real never fails.
func (r Resolver) Real(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	p = resolveExisting(filepath.Clean(p))
	if !r.FoldCase {
		return p
	}
	return r.spelled(p)
}

// resolveExisting resolves the symlinks of the longest part of the
// absolute path p that exists and appends the rest: /tmp/new on macOS is
// /private/tmp/new before it is made.
func resolveExisting(p string) string {
	var rest []string
	for dir := p; ; dir = filepath.Dir(dir) {
		if resolved, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(append([]string{resolved}, rest...)...)
		}
		if dir == filepath.Dir(dir) {
			return p
		}
		rest = append([]string{filepath.Base(dir)}, rest...)
	}
}

// spelled replaces each name of the absolute path p by the entry of its
// directory that the file system would find for it. EvalSymlinks keeps
// the names as typed, so "/users/me/proj" would stay a second name of
// "/Users/me/Proj".
func (r Resolver) spelled(p string) string {
	list := r.ReadDirNames
	if list == nil {
		list = readDirNames
	}
	names := strings.Split(strings.TrimPrefix(p, string(filepath.Separator)), string(filepath.Separator))
	out := string(filepath.Separator)
	for i, name := range names {
		if name == "" {
			continue
		}
		entries, err := list(out)
		if err != nil {
			return filepath.Join(append([]string{out}, names[i:]...)...)
		}
		out = filepath.Join(out, stored(entries, name))
	}
	return out
}

// stored is the entry of entries a case- and normalization-insensitive
// lookup of name finds: name itself when it is listed (a case-sensitive
// volume can hold both "a" and "A"), else the one entry equal to it when
// folded; name when there is none or more than one.
func stored(entries []string, name string) string {
	want := folded(name)
	found := ""
	for _, e := range entries {
		if e == name {
			return name
		}
		if folded(e) == want {
			if found != "" {
				return name
			}
			found = e
		}
	}
	if found == "" {
		return name
	}
	return found
}

// folded is name case-folded and in one Unicode normalization form: HFS+
// stores decomposed names, and a shell or an editor may type them
// composed.
func folded(name string) string {
	return norm.NFC.String(cases.Fold().String(norm.NFD.String(name)))
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return f.Readdirnames(-1)
}
