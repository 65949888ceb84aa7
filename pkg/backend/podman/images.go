package podman

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/image"
)

// imageRef is the local reference of a recipe's image: its Tag is already
// "name:content-hash".
func imageRef(p *image.Recipe) string { return p.Tag }

// imageExists reports whether ref is in podman's local storage.
func (b *Backend) imageExists(ctx context.Context, ref string) (bool, error) {
	_, err := b.runner.Run(ctx, imageExistsArgs(ref))
	if err == nil {
		return true, nil
	}
	if code, ok := exitCode(err); ok && code == 1 {
		return false, nil
	}
	return false, fmt.Errorf("failed to look up image %s: %w", ref, err)
}

// ensureImage builds the recipe's image unless its content tag already
// exists (rebuild forces the build, without podman's layer cache). A user
// Dockerfile is built first; paude's layer goes on top of its result.
// Build output is streamed to progress.
func (b *Backend) ensureImage(ctx context.Context, p *image.Recipe, rebuild, exists bool, progress io.Writer) error {
	ref := imageRef(p)
	if exists && !rebuild {
		fmt.Fprintf(progress, "Using image %s (already built)\n", ref)
		return nil
	}
	if ub := p.UserBuild; ub != nil {
		fmt.Fprintf(progress, "Building %s from %s\n", ub.Tag, ub.Dockerfile)
		spec := buildSpec{Tag: ub.Tag, Dockerfile: ub.Dockerfile, Context: ub.Context, Args: ub.Args,
			PullPolicy: b.opts.PullPolicy, NoCache: rebuild}
		if err := b.build(ctx, spec, progress); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "paude-build-")
	if err != nil {
		return fmt.Errorf("failed to create a build directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := p.WriteContext(dir); err != nil {
		return fmt.Errorf("failed to write the build context of %s: %w", ref, err)
	}
	fmt.Fprintf(progress, "Building %s\n", ref)
	spec := buildSpec{Tag: ref, Dockerfile: filepath.Join(dir, "Containerfile"), Context: dir,
		PullPolicy: b.opts.PullPolicy, NoCache: rebuild}
	return b.build(ctx, spec, progress)
}

// build runs one podman build, streaming its output to progress while
// keeping the tail to name the failing step.
func (b *Backend) build(ctx context.Context, s buildSpec, progress io.Writer) error {
	tail := &tailBuffer{max: 64 << 10}
	w := io.MultiWriter(progress, tail)
	started := b.opts.Now()
	err := b.runner.Stream(ctx, buildArgs(s), genericiooptions.IOStreams{Out: w, ErrOut: w})
	if err == nil {
		return nil
	}
	b.removeBuildLeftovers(started, progress)
	if _, ok := exitCode(err); !ok {
		return fmt.Errorf("failed to build image %s: %w", s.Tag, err)
	}
	return &BuildError{Image: s.Tag, Step: failedStep(tail.String()), Output: tail.lastLines(15)}
}

// BuildError is an image build that failed; Step is the Containerfile
// instruction podman was running, when it said.
type BuildError struct {
	Image  string
	Step   string
	Output string
}

func (e *BuildError) Error() string {
	if e.Step != "" {
		return fmt.Sprintf("failed to build image %s: step %s: fix that step (or the configuration that produced it) and start again", e.Image, e.Step)
	}
	msg := fmt.Sprintf("failed to build image %s", e.Image)
	if e.Output != "" {
		msg += ": " + lastLine(e.Output)
	}
	return msg + ": see the build output above"
}

// stepLineRe matches the "STEP 3/5: RUN x" lines podman prints as it
// goes; errLineRe matches its closing "building at STEP "RUN x": cause".
var (
	stepLineRe = regexp.MustCompile(`(?m)^STEP \d+/\d+: (.*)$`)
	errLineRe  = regexp.MustCompile(`(?m)building at STEP "(.*)$`)
)

// failedStep extracts `"RUN x" failed: cause` from podman's build output,
// or "" when the output names no step. The step text is taken from the
// last STEP line, as it may itself contain quotes.
func failedStep(out string) string {
	errs := errLineRe.FindAllStringSubmatch(out, -1)
	if len(errs) == 0 {
		return ""
	}
	rest := strings.TrimSpace(errs[len(errs)-1][1])
	if steps := stepLineRe.FindAllStringSubmatch(out, -1); len(steps) > 0 {
		step := strings.TrimSpace(steps[len(steps)-1][1])
		if cause, ok := strings.CutPrefix(rest, step+`": `); ok {
			return fmt.Sprintf("%q failed: %s", step, cause)
		}
	}
	// No STEP line: causes quote paths more often than steps do, so the
	// first `": ` is the more likely end of the step.
	if i := strings.Index(rest, `": `); i >= 0 {
		return fmt.Sprintf("%q failed: %s", rest[:i], rest[i+3:])
	}
	return strings.TrimSuffix(rest, `"`)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// lastLines returns the last n lines written.
func (t *tailBuffer) lastLines(n int) string {
	lines := bytes.Split(bytes.TrimRight([]byte(t.String()), "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// IsBuildError reports whether err is (or wraps) a *BuildError.
func IsBuildError(err error) bool {
	var be *BuildError
	return errors.As(err, &be)
}
