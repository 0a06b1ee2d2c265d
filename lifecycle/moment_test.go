package lifecycle_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/lifecycle"
)

// TestReached pins the one comparison behind every expiry and revocation:
// a moment at or before now has come, a later one and a missing one have
// not.
func TestReached(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"an hour ago", now.Add(-time.Hour), true},
		{"1ns ago", now.Add(-time.Nanosecond), true},
		{"now", now, true},
		{"now in another zone", now.In(time.FixedZone("x", 3600)), true},
		{"in 1ns", now.Add(time.Nanosecond), false},
		{"in an hour", now.Add(time.Hour), false},
		{"never (zero)", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := lifecycle.Reached(tt.at, now); got != tt.want {
				t.Errorf("Reached(%v, %v) = %v, want %v", tt.at, now, got, tt.want)
			}
			ts := (*timestamppb.Timestamp)(nil)
			if !tt.at.IsZero() {
				ts = timestamppb.New(tt.at)
			}
			if got := lifecycle.ReachedStamp(ts, now); got != tt.want {
				t.Errorf("ReachedStamp(%v, %v) = %v, want %v", ts, now, got, tt.want)
			}
		})
	}
	// The Unix epoch is a real moment, not "never": only nil is.
	if !lifecycle.ReachedStamp(&timestamppb.Timestamp{}, now) {
		t.Error("ReachedStamp(1970-01-01) = false, want true")
	}
}
