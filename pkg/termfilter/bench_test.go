package termfilter

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"
)

// sink is io.Discard without its ReadFrom, and source a bytes.Reader
// without its WriteTo, so that io.Copy moves the data through its buffer
// in Read and Write calls, as an attach stream does.
type (
	sink   struct{ io.Writer }
	source struct{ io.Reader }
)

// screenStream is about 1 MiB of what tmux sends a client: cursor moves,
// colours, erases, box drawing, text in several scripts, and now and then
// a clipboard write the filter removes.
func screenStream() []byte {
	var b bytes.Buffer
	words := []string{"func", "main()", "{", "\u2502", "caf\u00e9", "\u4e16\u754c", "return", "err", "\U0001f389", "nil"}
	for row := 0; b.Len() < 1<<20; row++ {
		fmt.Fprintf(&b, "\x1b[%d;1H\x1b[K", row%50+1)
		for i := range 12 {
			fmt.Fprintf(&b, "\x1b[38;5;%dm%s \x1b[m", (row+i)%256, words[(row*7+i)%len(words)])
		}
		if row%100 == 0 {
			b.WriteString("\x1b]52;c;cGF1ZGUgYmVuY2htYXJr\x07")
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// BenchmarkThroughput measures the filter against a plain io.Copy of the
// same stream in the same run, alternating the two in every iteration so
// both see the same machine load, and reports the ratio (how many times
// as long the filter takes) next to both throughputs.
func BenchmarkThroughput(b *testing.B) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"screen", screenStream()},
		{"ascii", bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\r\n"), 1<<20/45)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var copyTime, filterTime time.Duration
			timed := func(w io.Writer) time.Duration {
				start := time.Now()
				if _, err := io.Copy(w, source{bytes.NewReader(tc.data)}); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				copyTime += timed(sink{io.Discard})
				filterTime += timed(NewWriter(sink{io.Discard}, Options{}))
			}
			mbps := func(d time.Duration) float64 {
				return float64(len(tc.data)) * float64(b.N) / d.Seconds() / 1e6
			}
			ratio := filterTime.Seconds() / copyTime.Seconds()
			b.ReportMetric(mbps(copyTime), "copy-MB/s")
			b.ReportMetric(mbps(filterTime), "filter-MB/s")
			b.ReportMetric(ratio, "x-copy-time")
			b.Logf("%s: io.Copy %.0f MB/s, filter %.0f MB/s: the filter takes %.1f times as long",
				tc.name, mbps(copyTime), mbps(filterTime), ratio)
		})
	}
}
