package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "4h", want: 4 * time.Hour},
		{in: "2d", want: 48 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "0d", want: 0},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "-1h", wantErr: `duration "-1h" is negative: use a positive duration, or "0" for never`},
		{in: "-0", wantErr: `duration "-0" is negative: use a positive duration, or "0" for never`},
		{in: "", wantErr: `"" is not a duration: use a number with a unit (s, m, h, d), e.g. "30m", "4h", "2d", or "0" for never`},
		{in: "4", wantErr: `"4" is not a duration: use a number with a unit (s, m, h, d), e.g. "30m", "4h", "2d", or "0" for never`},
		{in: "4 hours", wantErr: `"4 hours" is not a duration: use a number with a unit (s, m, h, d), e.g. "30m", "4h", "2d", or "0" for never`},
		{in: "1d-5h", wantErr: `"1d-5h" is not a duration: use a number with a unit (s, m, h, d), e.g. "30m", "4h", "2d", or "0" for never`},
		{in: "1.5d", wantErr: `"1.5d" is not a duration: use a number with a unit (s, m, h, d), e.g. "30m", "4h", "2d", or "0" for never`},
		{in: "d", wantErr: `"d" is not a duration: use a number with a unit (s, m, h, d), e.g. "30m", "4h", "2d", or "0" for never`},
		{in: "106752d", wantErr: `duration "106752d" is too long: use at most 106751d`},
		{in: "106751d24h", wantErr: `duration "106751d24h" is too long: use at most 106751d`},
		{in: "99999999999999999999d", wantErr: `duration "99999999999999999999d" is too long: use at most 106751d`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("ParseDuration(%q) = %v, %v; want error %s", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatDurationRoundTrip(t *testing.T) {
	tests := map[time.Duration]string{
		0: "0", 4 * time.Hour: "4h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s",
		5 * time.Minute: "5m", 48 * time.Hour: "48h", 1500 * time.Millisecond: "1.5s",
	}
	for d, want := range tests {
		got := FormatDuration(d)
		if got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(got); err != nil || back != d {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", d, back, err)
		}
	}
}
