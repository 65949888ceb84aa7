package remote_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/paude-dev/paude/pkg/remote"
	"github.com/paude-dev/paude/pkg/remote/remotetest"
)

func TestLocalExecutor(t *testing.T) {
	l := &remotetest.Local{Dir: t.TempDir()}
	var out bytes.Buffer
	err := l.Exec(context.Background(), remote.Cmd{
		Argv: []string{"sh", "-c", "cat; pwd >&2; exit 3"}, Stdin: strings.NewReader("in"), Stdout: &out,
	})
	var ee *remote.ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Fatalf("got %v, want exit code 3", err)
	}
	if out.String() != "in" {
		t.Fatalf("stdout %q", out.String())
	}
	if !strings.Contains(ee.Error(), "sh exited with code 3") {
		t.Fatalf("message %q", ee.Error())
	}
	if err := l.Exec(context.Background(), remote.Cmd{Argv: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	if len(l.Calls) != 2 {
		t.Fatalf("calls %v", l.Calls)
	}
}
