package cli

import (
	"testing"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/reason"
)

// TestDeniedExitPerReason: the exit code of a denied access check for
// every reason the API has; a reason added to the API fails here until it
// gets a row.
func TestDeniedExitPerReason(t *testing.T) {
	t.Parallel()
	want := map[pb.Reason]int{
		pb.Reason_REASON_VALID:          ExitDenied, // never denied for it; not about the token
		pb.Reason_REASON_PUBLIC:         ExitDenied,
		pb.Reason_REASON_TOKEN_REQUIRED: ExitDenied,
		pb.Reason_REASON_MALFORMED:      ExitTokenInvalid,
		pb.Reason_REASON_UNKNOWN:        ExitTokenInvalid,
		pb.Reason_REASON_EXPIRED:        ExitTokenInvalid,
		pb.Reason_REASON_REVOKED:        ExitTokenInvalid,
		pb.Reason_REASON_NOT_MEMBER:     ExitTokenInvalid,
		pb.Reason_REASON_DISABLED:       ExitTokenInvalid,
		pb.Reason_REASON_ZOO_NOT_FOUND:  ExitDenied,
		pb.Reason_REASON_OUT_OF_SCOPE:   ExitDenied,
	}
	for n := range pb.Reason_name {
		r := pb.Reason(n)
		if r == pb.Reason_REASON_UNSPECIFIED {
			continue
		}
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			code, ok := want[r]
			if !ok {
				t.Fatalf("%v has no row: decide whether it means the token is not valid (reason.NotValid)", r)
			}
			if got := deniedExit(r); got != code {
				t.Errorf("deniedExit(%v) = %d, want %d", r, got, code)
			}
			if got, w := explain(r), reason.Describe(r)+" ("+r.String()+")"; got != w {
				t.Errorf("explain(%v) = %q, want the reason package's sentence %q", r, got, w)
			}
		})
	}
}
