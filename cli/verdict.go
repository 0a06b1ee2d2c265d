package cli

import (
	"fmt"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// reasonText explains each Reason in words, for the one-line verdict.
var reasonText = map[pb.Reason]string{
	pb.Reason_REASON_VALID:          "the token is valid",
	pb.Reason_REASON_PUBLIC:         "the zoo is public and downloads need no token",
	pb.Reason_REASON_TOKEN_REQUIRED: "the operation needs a token",
	pb.Reason_REASON_MALFORMED:      "this is not a token of this authority (wrong prefix, length, characters or checksum)",
	pb.Reason_REASON_UNKNOWN:        "no such token exists",
	pb.Reason_REASON_EXPIRED:        "the token has expired",
	pb.Reason_REASON_REVOKED:        "the token was revoked",
	pb.Reason_REASON_NOT_MEMBER:     "the token's user is no longer a member of its workspace",
	pb.Reason_REASON_ZOO_NOT_FOUND:  "the zoo does not exist, or it is private to another workspace",
}

// explain is "the token was revoked (REASON_REVOKED)".
func explain(r pb.Reason) string {
	text, ok := reasonText[r]
	if !ok {
		text = "refused"
	}
	return fmt.Sprintf("%s (%s)", text, r)
}

// tokenInvalid reports whether r says the presented token itself is bad,
// as opposed to a valid (or absent) token that may not do the operation.
func tokenInvalid(r pb.Reason) bool {
	switch r {
	case pb.Reason_REASON_MALFORMED, pb.Reason_REASON_UNKNOWN, pb.Reason_REASON_EXPIRED,
		pb.Reason_REASON_REVOKED, pb.Reason_REASON_NOT_MEMBER:
		return true
	}
	return false
}
