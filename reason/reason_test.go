package reason_test

import (
	"testing"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/reason"
)

func TestEveryReasonIsPlaced(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r               pb.Reason
		unauthenticated bool
	}{
		{pb.Reason_REASON_VALID, false},
		{pb.Reason_REASON_PUBLIC, false},
		{pb.Reason_REASON_TOKEN_REQUIRED, true},
		{pb.Reason_REASON_MALFORMED, true},
		{pb.Reason_REASON_UNKNOWN, true},
		{pb.Reason_REASON_EXPIRED, true},
		{pb.Reason_REASON_REVOKED, true},
		{pb.Reason_REASON_NOT_MEMBER, true},
		{pb.Reason_REASON_DISABLED, true},
		{pb.Reason_REASON_ZOO_NOT_FOUND, false},
		{pb.Reason_REASON_OUT_OF_SCOPE, false},
	}
	placed := map[pb.Reason]bool{}
	for _, tc := range tests {
		placed[tc.r] = true
		if got := reason.Unauthenticated(tc.r); got != tc.unauthenticated {
			t.Errorf("Unauthenticated(%v) = %v, want %v", tc.r, got, tc.unauthenticated)
		}
		if got, fallback := reason.Describe(tc.r), reason.Describe(pb.Reason(-1)); got == fallback {
			t.Errorf("Describe(%v) is the fallback %q", tc.r, got)
		}
	}
	for n := range pb.Reason_name {
		if r := pb.Reason(n); r != pb.Reason_REASON_UNSPECIFIED && !placed[r] {
			t.Errorf("%v has no row here: decide whether it is 401 or 403 and describe it in reason.go", r)
		}
	}
}
