package cli

import (
	"testing"
	"time"
)

func TestRelative(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "now"},
		{59 * time.Second, "now"},
		{-59 * time.Second, "now"},
		{time.Minute, "in 1 minute"},
		{-2 * time.Minute, "2 minutes ago"},
		{time.Hour, "in 1 hour"},
		{47 * time.Hour, "in 47 hours"},
		{48 * time.Hour, "in 2 days"},
		{30*24*time.Hour - time.Millisecond, "in 29 days"},
		{-30 * 24 * time.Hour, "30 days ago"},
		{59 * 24 * time.Hour, "in 59 days"},
		{60 * 24 * time.Hour, "in 2 months"},
		{400 * 24 * time.Hour, "in 13 months"},
		{3 * 365 * 24 * time.Hour, "in 3 years"},
		{-3 * 365 * 24 * time.Hour, "3 years ago"},
	}
	for _, tt := range tests {
		if got := relative(now, now.Add(tt.d)); got != tt.want {
			t.Errorf("relative(now, now%+v) = %q; want %q", tt.d, got, tt.want)
		}
	}
}

func TestParseExpires(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time // zero: never
		wantErr bool
	}{
		{"never", time.Time{}, false},
		{"NEVER", time.Time{}, false},
		{"30d", now.Add(30 * 24 * time.Hour), false},
		{"2w", now.Add(14 * 24 * time.Hour), false},
		{"12h", now.Add(12 * time.Hour), false},
		{"90m", now.Add(90 * time.Minute), false},
		{"2027-12-31", time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{"2027-12-31T10:00:00+02:00", time.Date(2027, 12, 31, 8, 0, 0, 0, time.UTC), false},
		{"", time.Time{}, true},
		{"soon", time.Time{}, true},
		{"0d", time.Time{}, true},
		{"-3d", time.Time{}, true},
		{"-1h", time.Time{}, true},
		{"2027-13-01", time.Time{}, true},
		{"99999999d", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseExpires(tt.in, now)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseExpires(%q) = %v; want an error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseExpires(%q): %v", tt.in, err)
			continue
		}
		if tt.want.IsZero() {
			if got != nil {
				t.Errorf("parseExpires(%q) = %v; want never (nil)", tt.in, got.AsTime())
			}
			continue
		}
		if got == nil || !got.AsTime().Equal(tt.want) {
			t.Errorf("parseExpires(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}
