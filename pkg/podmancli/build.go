package podmancli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/paude-dev/paude/pkg/image"
	"github.com/paude-dev/paude/pkg/progress"
	"github.com/paude-dev/paude/pkg/termfilter"
)

// Builder builds image recipes with podman. Both backends use it: the
// Podman backend runs what it builds, the cluster backend pushes it.
type Builder struct {
	// Runner runs podman.
	Runner Runner
	// PullPolicy is podman's --pull for builds ("" = podman's default).
	PullPolicy string
	// Platform is podman's --platform ("linux/arm64"); "" builds for
	// the podman host's own.
	Platform string
	// Now is the clock, to find an interrupted build's leftovers.
	Now func() time.Time
}

// BuildSpec is one podman build.
type BuildSpec struct {
	Tag        string
	Dockerfile string
	Context    string
	Args       map[string]string
	PullPolicy string
	Platform   string
	NoCache    bool
}

// BuildArgs builds an image. --force-rm leaves no build container behind
// when a step fails.
func BuildArgs(s BuildSpec) []string {
	args := []string{"build"}
	if s.PullPolicy != "" {
		args = append(args, "--pull="+s.PullPolicy)
	}
	if s.Platform != "" {
		args = append(args, "--platform", s.Platform)
	}
	if s.NoCache {
		args = append(args, "--no-cache")
	}
	args = append(args, "--force-rm", "--label", "app=paude", "-t", s.Tag, "-f", s.Dockerfile)
	keys := make([]string, 0, len(s.Args))
	for k := range s.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--build-arg", k+"="+s.Args[k])
	}
	return append(args, s.Context)
}

// ImageExistsArgs exits 0 when ref is in local storage, 1 when not.
func ImageExistsArgs(ref string) []string { return []string{"image", "exists", ref} }

// Exists reports whether ref is in podman's local storage.
func (b *Builder) Exists(ctx context.Context, ref string) (bool, error) {
	_, err := b.Runner.Run(ctx, ImageExistsArgs(ref))
	if err == nil {
		return true, nil
	}
	if code, ok := ExitCode(err); ok && code == 1 {
		return false, nil
	}
	return false, fmt.Errorf("failed to look up image %s: %w", ref, err)
}

// Steps are the podman builds of a recipe, in order: the project's own
// Dockerfile first when it has one, then paude's layer, whose context is
// written to dir. rebuild builds without podman's cache. A dry run prints
// them with a placeholder dir.
func (b *Builder) Steps(r *image.Recipe, dir string, rebuild bool) []BuildSpec {
	var steps []BuildSpec
	if ub := r.UserBuild; ub != nil {
		steps = append(steps, BuildSpec{Tag: ub.Tag, Dockerfile: ub.Dockerfile, Context: ub.Context, Args: ub.Args,
			PullPolicy: b.PullPolicy, Platform: b.Platform, NoCache: rebuild})
	}
	return append(steps, BuildSpec{Tag: r.Tag, Dockerfile: filepath.Join(dir, image.ContainerfileName), Context: dir,
		PullPolicy: b.PullPolicy, Platform: b.Platform, NoCache: rebuild})
}

// Ensure builds the recipe's image unless its content tag exists (as
// exists says: the caller asked podman, often with other questions at
// once). rebuild forces the build, without podman's layer cache. Build
// output is streamed to progress.
func (b *Builder) Ensure(ctx context.Context, r *image.Recipe, rebuild, exists bool, out io.Writer) error {
	if exists && !rebuild {
		fmt.Fprintf(out, "Using image %s (already built)\n", r.Tag)
		return nil
	}
	dir, err := os.MkdirTemp("", "paude-build-")
	if err != nil {
		return fmt.Errorf("failed to create a build directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := r.WriteContext(dir); err != nil {
		return fmt.Errorf("failed to write the build context of %s: %w", r.Tag, err)
	}
	for _, s := range b.Steps(r, dir, rebuild) {
		name := "Building " + s.Tag
		if s.Tag != r.Tag {
			name += " from " + s.Dockerfile
		}
		if err := b.build(ctx, s, name, progress.For(out)); err != nil {
			return err
		}
	}
	return nil
}

// build runs one podman build as a step of its own, keeping the tail of
// its output to name the failing step. On a terminal only the STEP lines
// show, so a failure prints the tail the error points to.
func (b *Builder) build(ctx context.Context, s BuildSpec, name string, r *progress.Reporter) error {
	step := r.Start(name, progress.Items, 0)
	tail := &tailBuffer{max: 64 << 10}
	meter := buildMeter(r, step)
	w := io.MultiWriter(meter, tail)
	now := b.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	err := b.Runner.Stream(ctx, BuildArgs(s), genericiooptions.IOStreams{Out: w, ErrOut: w})
	meter.flush()
	step.Done(err)
	if err == nil {
		return nil
	}
	if r.Mode() == progress.Bars {
		for line := range strings.Lines(tail.lastLines(15)) {
			fmt.Fprintln(r, strings.TrimSpace(termfilter.Sanitize(line)))
		}
	}
	b.removeLeftovers(started, r)
	if _, ok := ExitCode(err); !ok {
		return fmt.Errorf("failed to build image %s: %w", s.Tag, err)
	}
	return &BuildError{Image: s.Tag, Step: termfilter.Sanitize(failedStep(tail.String())), Output: tail.lastLines(15)}
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
