package podman

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/backend"
	"github.com/paude-dev/paude/pkg/image"
)

// homeCopyArgs copies a tar stream from stdin into the agent's HOME.
// podman cp gives what it copies to the container's user.
func homeCopyArgs(container string) []string {
	return []string{"cp", "-", container + ":" + image.HomeDir}
}

// homeContent is what a session gets in its HOME before it starts: the
// files backend.HomeFiles selected from the user's home, and the
// environment values that must stay off podman's command line. Both are
// copies: the agent may change them, the host's stay as they were.
type homeContent struct {
	Files []backend.HomeFile
	// Env are the values from the configuration and the host
	// (backend.AgentEnv.Passed), written to envFileRel.
	Env map[string]string
}

// empty reports that there is nothing to copy.
func (h homeContent) empty() bool { return len(h.Files) == 0 && len(h.Env) == 0 }

// copyHome streams the session's home content into the created container
// in one podman call, without writing it anywhere on the host.
func (b *Backend) copyHome(ctx context.Context, h homeContent, container string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeHomeTar(pw, h)) }()
	err := b.runner.Stream(ctx, homeCopyArgs(container), genericiooptions.IOStreams{In: pr})
	// Unblocks the writer if podman stopped reading early.
	_ = pr.Close()
	if err != nil {
		return fmt.Errorf("failed to copy the credentials and settings into the session: %w", err)
	}
	return nil
}

// writeHomeTar writes h as a tar of paths relative to HOME: the parent
// directories, each file with its mode, and the env file (mode 0600) of
// NUL-terminated NAME=VALUE records, which carry any value byte for byte.
func writeHomeTar(w io.Writer, h homeContent) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	addDirs := func(rel string) error {
		var missing []string
		for d := path.Dir(rel); d != "." && !dirs[d]; d = path.Dir(d) {
			missing = append(missing, d)
			dirs[d] = true
		}
		slices.Reverse(missing)
		for _, d := range missing {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o700}); err != nil {
				return err
			}
		}
		return nil
	}
	for _, f := range h.Files {
		if err := addDirs(f.Rel); err != nil {
			return err
		}
		if err := copyFileToTar(tw, f); err != nil {
			return err
		}
	}
	if len(h.Env) > 0 {
		if err := addDirs(envFileRel); err != nil {
			return err
		}
		var buf bytes.Buffer
		for _, k := range sortedKeys(h.Env) {
			if strings.ContainsRune(h.Env[k], 0) {
				return fmt.Errorf("the value of %s contains a NUL character, which no environment can hold: remove it", k)
			}
			buf.WriteString(k + "=" + h.Env[k] + "\x00")
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: envFileRel, Mode: 0o600, Size: int64(buf.Len())}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return tw.Close()
}

// copyFileToTar adds one home file. Its size is the one read now: a file
// that grew or shrank since it was selected is copied as it is.
func copyFileToTar(tw *tar.Writer, f backend.HomeFile) error {
	src, err := os.Open(f.Source)
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", f.Source, err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", f.Source, err)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.Rel, Mode: int64(f.Mode.Perm()), Size: fi.Size(), ModTime: fi.ModTime()}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, src, hdr.Size); err != nil {
		return fmt.Errorf("failed to read %s: %w", f.Source, err)
	}
	return nil
}
