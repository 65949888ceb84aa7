package openshift

import (
	"context"
	"errors"
	"io"
	"net/url"
	"reflect"
	"strings"
	"testing"

	utilexec "k8s.io/client-go/util/exec"

	"github.com/paude-dev/paude/pkg/remote"
)

func TestPodExec(t *testing.T) {
	tests := []struct {
		name      string
		stdin     io.Reader
		err       error
		wantQuery url.Values
		wantErr   string
		wantExit  int
	}{
		{name: "with stdin", stdin: strings.NewReader("x"),
			wantQuery: url.Values{"command": {"/usr/local/bin/paude", "__sync-agent", "recv"}, "container": {"paude"}, "stdin": {"true"}, "stdout": {"true"}, "stderr": {"true"}}},
		{name: "without stdin",
			wantQuery: url.Values{"command": {"/usr/local/bin/paude", "__sync-agent", "recv"}, "container": {"paude"}, "stdout": {"true"}, "stderr": {"true"}}},
		{name: "exit code", err: utilexec.CodeExitError{Err: errors.New("command terminated with non-zero exit code"), Code: 127}, wantExit: 127},
		{name: "lost connection", err: errors.New("websocket: close 1006 (abnormal closure)"), wantErr: "failed to run a command in pod paude-" + testID + ` in namespace "team"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, testConfig(), teamNS)
			tb.exec.cmdErr = tt.err
			c, err := tb.client()
			if err != nil {
				t.Fatal(err)
			}
			x := podExec{b: tb.Backend, c: c, ns: "team", pod: PodName(testID)}
			argv := []string{"/usr/local/bin/paude", "__sync-agent", "recv"}
			err = x.Exec(context.Background(), remote.Cmd{Argv: argv, Stdin: tt.stdin})
			var exit *remote.ExitError
			switch {
			case tt.wantExit != 0:
				if !errors.As(err, &exit) || exit.Code != tt.wantExit || !reflect.DeepEqual(exit.Argv, argv) {
					t.Fatalf("err = %v, want exit code %d", err, tt.wantExit)
				}
				return
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.As(err, &exit) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			u, opts := tb.exec.urls[0], tb.exec.opts[0]
			if u.Path != "/api/v1/namespaces/team/pods/paude-"+testID+"/exec" || !reflect.DeepEqual(u.Query(), tt.wantQuery) {
				t.Errorf("exec %s?%v, want query %v", u.Path, u.Query(), tt.wantQuery)
			}
			// No terminal; every stream the request names has a writer.
			if opts.Tty || opts.Stdout == nil || opts.Stderr == nil || (opts.Stdin != nil) != (tt.stdin != nil) {
				t.Errorf("stream options %+v", opts)
			}
		})
	}
}
