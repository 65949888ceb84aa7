package trust

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestEnsure(t *testing.T) {
	for _, tc := range []struct {
		name     string
		trusted  bool // trusted before Ensure
		change   bool // and changed since
		noConfig bool
		terminal bool
		answer   string
		// wantErr is "" for success, else part of the *UntrustedError.
		wantErr      string
		wantDeclined bool
		wantOut      []string
		wantQuiet    bool
		wantRecord   bool
	}{
		{name: "no configuration needs nothing", noConfig: true, wantQuiet: true},
		{name: "trusted goes ahead quietly", trusted: true, wantQuiet: true, wantRecord: true},
		{
			name: "first use on a terminal, yes", terminal: true, answer: "y\n",
			wantOut:    []string{"paude has not used the configuration", "api.example.com", "Trust this configuration and start? [y/N] ", "Trusted; 'kubectl paude trust "},
			wantRecord: true,
		},
		{name: "YES in capitals", terminal: true, answer: " YES \n", wantRecord: true},
		{
			name: "first use on a terminal, no", terminal: true, answer: "n\n",
			wantErr: "is not trusted yet and was not trusted, so nothing was started: review it with 'kubectl paude trust ", wantDeclined: true,
		},
		{name: "empty answer is no", terminal: true, answer: "\n", wantErr: "was not trusted", wantDeclined: true},
		{name: "end of input is no", terminal: true, answer: "", wantErr: "was not trusted", wantDeclined: true},
		{
			name:    "first use without a terminal is refused",
			wantErr: "is not trusted yet and there is no terminal to ask on: review and trust it with 'kubectl paude trust ",
			wantOut: []string{"paude has not used the configuration", "api.example.com"},
		},
		{
			name: "change without a terminal is refused", trusted: true, change: true,
			wantErr: "changed since you trusted it and there is no terminal to ask on", wantOut: []string{"+  evil.example"},
			wantRecord: true,
		},
		{
			name: "change on a terminal, yes", trusted: true, change: true, terminal: true, answer: "yes\n",
			wantOut: []string{"changed since you trusted it", "+  evil.example", "Trust this configuration"}, wantRecord: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			in := f.inputs()
			if tc.trusted {
				f.trust(in)
			}
			if tc.change {
				in.Summary.AllowedDomains = append(in.Summary.AllowedDomains, "evil.example")
			}
			if tc.noConfig {
				in.ConfigPath = ""
			}
			var out strings.Builder
			answer := strings.NewReader(tc.answer)
			err := Ensure(f.store, in, Prompt{In: answer, Out: &out, Terminal: tc.terminal, TrustCommand: "kubectl paude trust"})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Ensure: %v", err)
			case tc.wantErr != "":
				var untrusted *UntrustedError
				if !errors.As(err, &untrusted) || !strings.Contains(err.Error(), tc.wantErr) || untrusted.Declined != tc.wantDeclined {
					t.Fatalf("Ensure: %v, want an *UntrustedError (declined %v) containing %q", err, tc.wantDeclined, tc.wantErr)
				}
				if !strings.Contains(err.Error(), f.ws) {
					t.Fatalf("the error does not name the workspace: %v", err)
				}
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if tc.wantQuiet && out.Len() > 0 {
				t.Errorf("output %q, want none", out.String())
			}
			if !tc.terminal && answer.Len() != len(tc.answer) {
				t.Errorf("read the input without a terminal")
			}
			_, statErr := os.Stat(f.recordFile())
			if hasRecord := statErr == nil; hasRecord != tc.wantRecord {
				t.Errorf("record written %v, want %v", hasRecord, tc.wantRecord)
			}
			if tc.wantErr == "" && !tc.noConfig {
				if st := f.check(in); st.State != Trusted {
					t.Errorf("state after Ensure %v, want %v", st.State, Trusted)
				}
			}
		})
	}
}

// Ask reads no further than the answer's line: what follows belongs to
// the session.
func TestAskReadsOneLine(t *testing.T) {
	in := strings.NewReader("y\nkeys for the agent")
	var out strings.Builder
	yes, err := Ask(in, &out, "? ")
	if err != nil || !yes {
		t.Fatalf("Ask: %v, %v", yes, err)
	}
	if rest := in.Len(); rest != len("keys for the agent") {
		t.Fatalf("Ask consumed %d bytes past the line", len("keys for the agent")-rest)
	}
}

func TestUntrustedErrorQuotesTheWorkspace(t *testing.T) {
	for _, tc := range []struct{ ws, want string }{
		{"/home/me/project", `'paude trust /home/me/project'`},
		{"/home/me/my project", `'paude trust "/home/me/my project"'`},
		{`/home/me/$x"y`, `'paude trust "/home/me/\$x\"y"'`},
	} {
		err := &UntrustedError{Workspace: tc.ws, State: FirstUse, TrustCommand: "paude trust"}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v lacks %s", err, tc.want)
		}
	}
}
