package client_test

import (
	"testing"

	"tokenauthority/access"
	"tokenauthority/client"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestReasonsSplitLikeTheAuthority checks, for every reason of the API
// (also those no token of this test can produce), that the middleware
// answers 401 where the authority's gateways do, and 403 elsewhere.
func TestReasonsSplitLikeTheAuthority(t *testing.T) {
	t.Parallel()
	for n := range pb.Reason_name {
		r := pb.Reason(n)
		if got, want := client.Unauthenticated(r), access.Unauthenticated(r); got != want {
			t.Errorf("%v: client says unauthenticated %v, the authority %v", r, got, want)
		}
	}
}
