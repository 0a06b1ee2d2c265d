package cli

import (
	"fmt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/reason"
)

// explain is "the token was revoked (REASON_REVOKED)": the reason package's
// sentence, as every other entry point says it, and the reason's name.
func explain(r pb.Reason) string {
	return fmt.Sprintf("%s (%s)", reason.Describe(r), r)
}

// deniedExit is the exit code of an access check denied for r: the token
// is not valid (7), or it, or no token, may not do what was asked (8).
func deniedExit(r pb.Reason) int {
	if reason.NotValid(r) {
		return ExitTokenInvalid
	}
	return ExitDenied
}
