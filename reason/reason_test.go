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
		notValid        bool
	}{
		{pb.Reason_REASON_VALID, false, false},
		{pb.Reason_REASON_PUBLIC, false, false},
		{pb.Reason_REASON_TOKEN_REQUIRED, true, false},
		{pb.Reason_REASON_MALFORMED, true, true},
		{pb.Reason_REASON_UNKNOWN, true, true},
		{pb.Reason_REASON_EXPIRED, true, true},
		{pb.Reason_REASON_REVOKED, true, true},
		{pb.Reason_REASON_NOT_MEMBER, true, true},
		{pb.Reason_REASON_DISABLED, true, true},
		{pb.Reason_REASON_ZOO_NOT_FOUND, false, false},
		{pb.Reason_REASON_OUT_OF_SCOPE, false, false},
	}
	placed := map[pb.Reason]bool{}
	for _, tc := range tests {
		placed[tc.r] = true
		if got := reason.Unauthenticated(tc.r); got != tc.unauthenticated {
			t.Errorf("Unauthenticated(%v) = %v, want %v", tc.r, got, tc.unauthenticated)
		}
		if got := reason.NotValid(tc.r); got != tc.notValid {
			t.Errorf("NotValid(%v) = %v, want %v", tc.r, got, tc.notValid)
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
