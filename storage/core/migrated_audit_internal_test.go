package core

import (
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestMigratedAuditTime covers the edges of an audit key's time T: events
// without a time or before 1970 count as 0, events past the int64 range
// as its end, and T always moves past the previous one.
func TestMigratedAuditTime(t *testing.T) {
	t.Parallel()
	at := func(ts *timestamppb.Timestamp) *pb.AuditEvent { return &pb.AuditEvent{Time: ts} }
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	tests := []struct {
		name  string
		ev    *pb.AuditEvent
		prev  uint64
		first bool
		want  uint64
		err   bool
	}{
		{"first, own time", at(timestamppb.New(t0)), 0, true, uint64(t0.UnixNano()), false},
		{"later than prev", at(timestamppb.New(t0)), 5, false, uint64(t0.UnixNano()), false},
		{"same as prev", at(timestamppb.New(t0)), uint64(t0.UnixNano()), false, uint64(t0.UnixNano()) + 1, false},
		{"earlier than prev", at(timestamppb.New(t0.Add(-time.Hour))), uint64(t0.UnixNano()), false, uint64(t0.UnixNano()) + 1, false},
		{"undecodable first", nil, 0, true, 0, false},
		{"undecodable", nil, 41, false, 42, false},
		{"no time", at(nil), 7, false, 8, false},
		{"before 1970", at(&timestamppb.Timestamp{Seconds: -5, Nanos: 3}), 0, true, 0, false},
		{"negative nanos", at(&timestamppb.Timestamp{Seconds: 1, Nanos: -3}), 0, true, 1e9, false},
		{"past 2262", at(&timestamppb.Timestamp{Seconds: math.MaxInt64/1_000_000_000 + 1}), 0, true, math.MaxInt64, false},
		{"at the int64 end", at(&timestamppb.Timestamp{Seconds: math.MaxInt64 / 1_000_000_000, Nanos: 999_999_999}), 0, true, math.MaxInt64, false},
		{"past the int64 end", at(timestamppb.New(t0)), math.MaxInt64, false, math.MaxInt64 + 1, false},
		{"no time left", at(timestamppb.New(t0)), math.MaxUint64, false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := MigratedAuditTime(EventNanos(tt.ev), tt.prev, tt.first)
			if (err != nil) != tt.err {
				t.Fatalf("MigratedAuditTime = %d, %v; want error %v", got, err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Errorf("MigratedAuditTime = %d, want %d", got, tt.want)
			}
		})
	}
}
