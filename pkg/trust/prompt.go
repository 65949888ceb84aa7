package trust

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Prompt is where a start asks the user for trust.
type Prompt struct {
	// In is where the answer is read; only a line, byte by byte, so that
	// nothing meant for the session is consumed.
	In io.Reader
	// Out is where the summary and the question go (a start's
	// diagnostics stream).
	Out io.Writer
	// Terminal says In and Out are a terminal a person answers on.
	// Without one, nothing is asked and the start is refused.
	Terminal bool
	// TrustCommand is the trust command as the user would type it
	// ("paude trust", "kubectl paude trust"), named in refusals.
	TrustCommand string
}

// UntrustedError is a start refused because its workspace configuration
// is not trusted.
type UntrustedError struct {
	Workspace string
	State     State
	// Declined says the user answered no (else there was no terminal to
	// ask on).
	Declined     bool
	TrustCommand string
}

func (e *UntrustedError) Error() string {
	review := fmt.Sprintf("'%s %s'", e.TrustCommand, shellQuote(e.Workspace))
	what := "is not trusted yet"
	if e.State == Changed {
		what = "changed since you trusted it"
	}
	if e.Declined {
		return fmt.Sprintf("the configuration of %s %s and was not trusted, so nothing was started: "+
			"review it with %s, or change it", e.Workspace, what, review)
	}
	return fmt.Sprintf("the configuration of %s %s and there is no terminal to ask on: "+
		"review and trust it with %s, then start again", e.Workspace, what, review)
}

// maxAnswer bounds the answer line read.
const maxAnswer = 256

// Ensure lets a start go ahead when the workspace needs no trust or is
// trusted. Otherwise it shows the summary (or what changed) on p.Out and,
// on a terminal, asks; a yes records the trust. Without a terminal, or on
// any answer but yes, it returns an *UntrustedError.
func Ensure(s *Store, in Inputs, p Prompt) error {
	st, err := s.Check(in)
	if err != nil {
		return err
	}
	if !st.NeedsTrust() {
		return nil
	}
	if err := st.Report(p.Out); err != nil {
		return fmt.Errorf("failed to show the configuration: %w", err)
	}
	refused := &UntrustedError{Workspace: st.Workspace, State: st.State, TrustCommand: p.TrustCommand}
	if !p.Terminal {
		return refused
	}
	yes, err := Ask(p.In, p.Out, "\nTrust this configuration and start? [y/N] ")
	if err != nil {
		return err
	}
	if !yes {
		refused.Declined = true
		return refused
	}
	if err := s.Trust(st); err != nil {
		return err
	}
	_, _ = fmt.Fprintf(p.Out, "Trusted; '%s %s --revoke' forgets it.\n", p.TrustCommand, shellQuote(st.Workspace))
	return nil
}

// Ask writes question and reads one line from in: true for "y" or "yes"
// (any case). The end of input is a no.
func Ask(in io.Reader, out io.Writer, question string) (bool, error) {
	if _, err := io.WriteString(out, question); err != nil {
		return false, fmt.Errorf("failed to ask: %w", err)
	}
	var line []byte
	buf := make([]byte, 1)
	for len(line) < maxAnswer {
		n, err := in.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			line = append(line, buf[0])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false, fmt.Errorf("failed to read the answer: %w", err)
		}
	}
	switch strings.ToLower(strings.TrimSpace(string(line))) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// shellQuote quotes a path for a command the user may copy; double
// quotes, since messages put single quotes around the whole command.
func shellQuote(s string) string {
	plain := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@,", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !plain(r) }) < 0 {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if strings.ContainsRune("\"\\$`", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
