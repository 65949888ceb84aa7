package kubetest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// LogCursor reads what a log file gained after the cursor was made, so a
// test sees only the lines its own actions caused.
type LogCursor struct {
	path   string
	offset int64
}

// NewLogCursor starts at the current end of the file at path (which may
// not exist yet).
func NewLogCursor(path string) (*LogCursor, error) {
	fi, err := os.Stat(path)
	switch {
	case os.IsNotExist(err):
		return &LogCursor{path: path}, nil
	case err != nil:
		return nil, fmt.Errorf("failed to read log %s: %w", path, err)
	}
	return &LogCursor{path: path, offset: fi.Size()}, nil
}

// Lines returns the complete lines written since the cursor was made.
func (l *LogCursor) Lines() ([]string, error) {
	f, err := os.Open(l.path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to open log %s: %w", l.path, err)
	}
	defer f.Close()
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("failed to seek in log %s: %w", l.path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("failed to read log %s: %w", l.path, err)
	}
	// A line still being written is not a line yet.
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	} else {
		return nil, nil
	}
	return strings.Split(string(data), "\n"), nil
}

// RegistryLogCursor starts reading the registry's request log here.
func (c *Cluster) RegistryLogCursor(t testing.TB) *LogCursor {
	t.Helper()
	cur, err := NewLogCursor(c.RegistryLog)
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

// blobUpload matches the registry's access-log line of a request that
// uploads blob data: POST (start or mount), PATCH (chunk) or PUT (finish)
// on /v2/<repository>/blobs/uploads/.
var blobUpload = regexp.MustCompile(`"(POST|PATCH|PUT) /v2/\S+/blobs/uploads/`)

// CountBlobUploads counts the blob upload requests among registry log
// lines; a push of an image the registry holds already makes none.
func CountBlobUploads(lines []string) int {
	n := 0
	for _, l := range lines {
		if blobUpload.MatchString(l) {
			n++
		}
	}
	return n
}
