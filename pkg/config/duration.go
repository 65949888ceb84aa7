package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tailscale/hujson"
)

// day is the length of the "d" unit ParseDuration accepts.
const day = 24 * time.Hour

// ParseDuration parses a configuration duration: anything
// time.ParseDuration accepts ("90s", "30m", "1h30m"), a leading whole
// number of days ("2d", "1d12h"), or a plain "0", which callers read as
// "never". Negative durations are rejected.
func ParseDuration(s string) (time.Duration, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("duration %q is negative: use a positive duration, or \"0\" for never", s)
	}
	var days time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i > 0 && isDigits(s[:i]) {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n > int64(math.MaxInt64/day) {
			return 0, fmt.Errorf("duration %q is too long: use at most %dd", s, math.MaxInt64/day)
		}
		days = time.Duration(n) * day
		rest = s[i+1:]
		if rest == "" {
			return days, nil
		}
		// "1d+5h" and "1d-5h" are not durations anyone means.
		if rest[0] == '+' || rest[0] == '-' {
			return 0, invalidDuration(s)
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return 0, invalidDuration(s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative: use a positive duration, or \"0\" for never", s)
	}
	if d > math.MaxInt64-days {
		return 0, fmt.Errorf("duration %q is too long: use at most %dd", s, math.MaxInt64/day)
	}
	return days + d, nil
}

func invalidDuration(s string) error {
	return fmt.Errorf("%q is not a duration: use a number with a unit (s, m, h, d), e.g. \"30m\", \"4h\", \"2d\", or \"0\" for never", s)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// FormatDuration prints d the way a user would write it in paude.json:
// "0" for zero, otherwise time.Duration's form without trailing zero units
// ("4h", "1h30m", "90s"). ParseDuration reads the result back to d.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// setDuration returns a handler parsing a duration string into dst.
func (d *decoder) setDuration(dst *time.Duration) handler {
	return func(key string, v *hujson.Value) {
		s, ok := d.str(key, v)
		if !ok {
			return
		}
		dur, err := ParseDuration(s)
		if err != nil {
			d.fail(v.StartOffset, "%s: %v", d.name(key), err)
			return
		}
		*dst = dur
		d.mark(key, d.name(key), v)
	}
}
