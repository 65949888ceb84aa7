//go:build integration

package kube_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/remotecommand"

	"github.com/paude-dev/paude/tests/kube/kubetest"
)

// TestPodExec starts a pod from a locally built image on the real node and
// drives it through the API server's exec subresource (client-go
// remotecommand): plain streams, exit codes, and a terminal that is resized
// while the command runs.
func TestPodExec(t *testing.T) {
	c := kubetest.Require(t)
	ns := c.Namespace(t, nil)
	pod := c.StartPod(t, ns, c.ProbePod("shell", nil, "sleep", "3600"))
	if pod.Spec.NodeName != c.Node {
		t.Fatalf("pod ran on node %q, want the testbed node %q", pod.Spec.NodeName, c.Node)
	}

	t.Run("streams and exit code", func(t *testing.T) {
		tests := []struct {
			name                 string
			script               string
			wantOut, wantErr     string
			wantCode             int
			wantExit, wantStderr bool
		}{
			{name: "success", script: "echo hello", wantOut: "hello\n"},
			{name: "non-zero exit", script: "echo out; echo err >&2; exit 7", wantOut: "out\n", wantErr: "err\n", wantCode: 7, wantExit: true},
			{name: "exit 1", script: "exit 1", wantCode: 1, wantExit: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				out, errOut, err := c.ExecOutput(ctx, ns, pod.Name, "sh", "-c", tt.script)
				code, isExit := kubetest.ExitCode(err)
				switch {
				case tt.wantExit && !isExit:
					t.Fatalf("want exit code %d, got error %v", tt.wantCode, err)
				case !tt.wantExit && err != nil:
					t.Fatalf("exec failed: %v", err)
				case code != tt.wantCode:
					t.Errorf("exit code = %d, want %d", code, tt.wantCode)
				}
				if out != tt.wantOut || errOut != tt.wantErr {
					t.Errorf("stdout %q stderr %q, want %q and %q", out, errOut, tt.wantOut, tt.wantErr)
				}
			})
		}
	})

	t.Run("tty resize and exit code", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sizes := newSizeQueue(remotecommand.TerminalSize{Height: 24, Width: 80})
		stdinR, stdinW := io.Pipe()
		stdoutR, stdoutW := io.Pipe()
		// Every line typed makes the shell print the terminal size again;
		// end of input (Ctrl-D on the terminal) ends the loop with a
		// distinctive exit code.
		script := `stty size; while read -r line; do stty size; done; exit 5`
		done := make(chan error, 1)
		go func() {
			done <- c.Exec(ctx, ns, pod.Name, kubetest.ExecOptions{
				Command: []string{"sh", "-c", script},
				Stdin:   stdinR, Stdout: stdoutW, TTY: true, Sizes: sizes,
			})
			_ = stdoutW.Close()
		}()
		lines := make(chan string, 64)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdoutR)
			for sc.Scan() {
				lines <- strings.TrimSpace(sc.Text())
			}
		}()
		// The initial size may land just after the first stty; typing repeats it.
		// Typing never blocks the test: a write to a dead stream fails once
		// the pipe is closed below.
		typeLine := func() { go func() { _, _ = io.WriteString(stdinW, "\n") }() }
		waitLine(t, lines, "24 80", typeLine)
		sizes.push(remotecommand.TerminalSize{Height: 40, Width: 132})
		// The resize and the typed lines travel on separate streams, so type
		// until the shell reports the new size.
		waitLine(t, lines, "40 132", typeLine)
		// Closing stdin does not end a terminal's input; typing Ctrl-D does.
		go func() { _, _ = io.WriteString(stdinW, "\x04") }()
		err := <-done
		_ = stdinW.Close()
		sizes.close()
		if code, ok := kubetest.ExitCode(err); !ok || code != 5 {
			t.Fatalf("exec with TTY: want exit code 5, got %v", err)
		}
	})
}

// waitLine reads terminal lines until one equals want, calling poke (if
// set) between reads to make the remote side print again.
func waitLine(t *testing.T, lines <-chan string, want string, poke func()) {
	t.Helper()
	deadline := time.After(convergeTimeout)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	var seen []string
	if poke != nil {
		poke()
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("terminal closed before printing %q; saw %q", want, seen)
			}
			if l == want {
				return
			}
			seen = append(seen, l)
		case <-tick.C:
			if poke != nil {
				poke()
			}
		case <-deadline:
			t.Fatalf("terminal never printed %q; saw %q", want, seen)
		}
	}
}

// sizeQueue is a remotecommand.TerminalSizeQueue fed by the test.
type sizeQueue struct {
	ch chan remotecommand.TerminalSize
}

func newSizeQueue(initial remotecommand.TerminalSize) *sizeQueue {
	q := &sizeQueue{ch: make(chan remotecommand.TerminalSize, 4)}
	q.push(initial)
	return q
}

func (q *sizeQueue) push(s remotecommand.TerminalSize) { q.ch <- s }
func (q *sizeQueue) close()                            { close(q.ch) }

// Next blocks until the test pushes a size; nil ends the resize stream.
func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	s, ok := <-q.ch
	if !ok {
		return nil
	}
	return &s
}
