package termfilter

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// filterCase is one line of testdata/cases.txt.
type filterCase struct {
	name      string
	opts      Options
	in, want  string
	sourceRef string
}

// loadCases reads testdata/cases.txt.
func loadCases(t testing.TB) []filterCase {
	t.Helper()
	f, err := os.Open("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []filterCase
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, " | ")
		if len(fields) != 4 {
			t.Fatalf("cases.txt:%d: want 4 fields separated by ' | ', got %d", line, len(fields))
		}
		c := filterCase{name: fields[0], sourceRef: "cases.txt:" + strconv.Itoa(line)}
		switch fields[1] {
		case "-":
		case "hyperlinks":
			c.opts.Hyperlinks = true
		default:
			t.Fatalf("cases.txt:%d: unknown options %q", line, fields[1])
		}
		if c.in, err = strconv.Unquote(fields[2]); err != nil {
			t.Fatalf("cases.txt:%d: input: %v", line, err)
		}
		if c.want, err = strconv.Unquote(fields[3]); err != nil {
			t.Fatalf("cases.txt:%d: want: %v", line, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// writeChunks sends chunks through a Writer and returns what came out.
func writeChunks(t testing.TB, opts Options, chunks ...[]byte) string {
	t.Helper()
	var out bytes.Buffer
	w := NewWriter(&out, opts)
	for _, c := range chunks {
		n, err := w.Write(c)
		if err != nil || n != len(c) {
			t.Fatalf("Write(%q) = %d, %v", c, n, err)
		}
	}
	return out.String()
}

func TestFilterCases(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			if got := writeChunks(t, c.opts, in); got != c.want {
				t.Fatalf("%s: got %q, want %q", c.sourceRef, got, c.want)
			}
			// Split at every byte boundary: the filter must hold a partial
			// sequence or character, never pass half of it or lose it.
			for i := 1; i < len(in); i++ {
				if got := writeChunks(t, c.opts, in[:i], in[i:]); got != c.want {
					t.Fatalf("%s: split at %d (%q | %q): got %q, want %q", c.sourceRef, i, in[:i], in[i:], got, c.want)
				}
			}
			var bytewise [][]byte
			for i := range in {
				bytewise = append(bytewise, in[i:i+1])
			}
			if got := writeChunks(t, c.opts, bytewise...); got != c.want {
				t.Fatalf("%s: one byte a write: got %q, want %q", c.sourceRef, got, c.want)
			}
			// The Reader form, fed one byte a read.
			r := NewReader(iotest.OneByteReader(strings.NewReader(c.in)), c.opts)
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Fatalf("%s: Reader: got %q, want %q", c.sourceRef, got, c.want)
			}
		})
	}
}

func TestFilterBoundsMemory(t *testing.T) {
	cases := []struct {
		name   string
		opts   Options
		prefix string
	}{
		{"unterminated osc 52", Options{}, "\x1b]52;c;"},
		{"unterminated dcs", Options{}, "\x1bPtmux;"},
		{"unterminated apc", Options{}, "\x1b_G"},
		{"unterminated hyperlink", Options{Hyperlinks: true}, "\x1b]8;;https://x/"},
		{"endless csi", Options{}, "\x1b[1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewWriter(&out, tc.opts)
			if _, err := w.Write([]byte("before")); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte(tc.prefix)); err != nil {
				t.Fatal(err)
			}
			// 16 MiB of sequence body, in 64 KiB writes.
			chunk := bytes.Repeat([]byte("A"), 64<<10)
			if tc.name == "endless csi" {
				chunk = bytes.Repeat([]byte(";1"), 32<<10)
			}
			for range 256 {
				if _, err := w.Write(chunk); err != nil {
					t.Fatal(err)
				}
				if held := cap(w.f.seq); held > MaxSequence+1 {
					t.Fatalf("the filter holds %d bytes of one sequence, more than MaxSequence", held)
				}
			}
			if data := len(w.f.p.Data()); data > MaxSequence {
				t.Fatalf("the parser holds %d bytes of string data", data)
			}
			// A terminator (or a new sequence) ends it: what follows shows.
			if _, err := w.Write([]byte("\x07\x1b[mafter")); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if !strings.HasPrefix(got, "before") || !strings.HasSuffix(got, "after") || strings.Contains(got, "AAAA") {
				t.Fatalf("got %q (first 64 bytes), want before…after with the sequence dropped", got[:min(len(got), 64)])
			}
		})
	}
}

func TestWriterReportsUnderlyingError(t *testing.T) {
	w := NewWriter(failingWriter{}, Options{})
	if _, err := w.Write([]byte("x")); err == nil || err.Error() != "disk full" {
		t.Fatalf("first write: %v", err)
	}
	if _, err := w.Write([]byte("y")); err == nil {
		t.Fatal("second write succeeded after the underlying writer failed")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

var errDiskFull = errors.New("disk full")
