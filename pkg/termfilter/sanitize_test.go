package termfilter

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// loadPairs reads a testdata file of "name | input | want" lines.
func loadPairs(t *testing.T, name string) [][3]string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pairs [][3]string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, " | ")
		if len(fields) != 3 {
			t.Fatalf("%s:%d: want 3 fields", name, line)
		}
		in, err1 := strconv.Unquote(fields[1])
		want, err2 := strconv.Unquote(fields[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("%s:%d: %v %v", name, line, err1, err2)
		}
		pairs = append(pairs, [3]string{fields[0], in, want})
	}
	return pairs
}

func TestSanitize(t *testing.T) {
	for _, c := range loadPairs(t, "sanitize.txt") {
		t.Run(c[0], func(t *testing.T) {
			if got := Sanitize(c[1]); got != c[2] {
				t.Fatalf("Sanitize(%q) = %q, want %q", c[1], got, c[2])
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	for _, c := range loadPairs(t, "printable.txt") {
		t.Run(c[0], func(t *testing.T) {
			if got := Printable(c[1]); got != c[2] {
				t.Fatalf("Printable(%q) = %q, want %q", c[1], got, c[2])
			}
		})
	}
}

// FuzzSanitize checks that Sanitize's result has no control or format
// character at all, whatever the input.
func FuzzSanitize(f *testing.F) {
	f.Add("a\x1b]52;c;eA==\x07b")
	f.Add("\xc2\x1b]0;t\x07")
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Sanitize(s), Printable(s)} {
			for _, r := range out {
				if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x202e || r == 0x200b {
					t.Fatalf("%q -> %q holds %U", s, out, r)
				}
			}
		}
	})
}
