package podman

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/paude-dev/paude/pkg/backend"
)

// claudeCopyArgs copies a tar stream from stdin into the agent's HOME.
// podman cp gives the files to the container's user.
func claudeCopyArgs(container string) []string {
	return []string{"cp", "-", container + ":" + containerHome}
}

// copyClaudeDir copies ~/.claude into the container, leaving out the
// history of other projects (backend.ClaudeHistoryDirs). The agent gets
// its own copy: it may rewrite it, the host's stays as it was.
func (b *Backend) copyClaudeDir(ctx context.Context, dir, container string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeClaudeTar(pw, dir)) }()
	err := b.runner.Stream(ctx, claudeCopyArgs(container), Streams{In: pr})
	// Unblocks the writer if podman stopped reading early.
	_ = pr.Close()
	if err != nil {
		return fmt.Errorf("failed to copy %s into the session: %w", dir, err)
	}
	return nil
}

// writeClaudeTar writes dir as ".claude/..." to w: directories, regular
// files and symlinks (as links, never followed: a link to ~/.ssh stays a
// dangling link inside), without the top-level history directories.
func writeClaudeTar(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() && path.Dir(rel) == "." && slices.Contains(backend.ClaudeHistoryDirs, rel) {
			return filepath.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		case !fi.Mode().IsRegular() && !fi.IsDir():
			return nil // sockets, pipes, devices mean nothing inside
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = path.Join(".claude", rel)
		if fi.IsDir() {
			hdr.Name += "/"
		}
		// Ownership is the container's user's (podman cp sets it); the
		// host's names mean nothing there.
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.CopyN(tw, f, hdr.Size)
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", dir, err)
	}
	return tw.Close()
}
