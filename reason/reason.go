package reason

import pb "tokenauthority/gen/tokenauthority/v1"

// Unauthenticated reports whether a denial's reason is about the token
// (none where one is needed, or one that is not valid) rather than about
// what the token may reach. Transports answer the first kind with HTTP 401
// or Unauthenticated and the second with 403 or PermissionDenied.
func Unauthenticated(r pb.Reason) bool {
	return r == pb.Reason_REASON_TOKEN_REQUIRED || NotValid(r)
}

// NotValid reports whether r says a presented token is itself not valid
// (tokenctl's exit 7), as opposed to absent, or valid but not allowed what
// was asked (exit 8):
//
//	MALFORMED, UNKNOWN, EXPIRED, REVOKED,
//	NOT_MEMBER, DISABLED                          not valid
//	VALID, PUBLIC, TOKEN_REQUIRED, ZOO_NOT_FOUND,
//	OUT_OF_SCOPE, anything else                   not about the token
func NotValid(r pb.Reason) bool {
	switch r {
	case pb.Reason_REASON_MALFORMED,
		pb.Reason_REASON_UNKNOWN,
		pb.Reason_REASON_EXPIRED,
		pb.Reason_REASON_REVOKED,
		pb.Reason_REASON_NOT_MEMBER,
		pb.Reason_REASON_DISABLED:
		return true
	}
	return false
}

// Describe is the sentence shown to a person for a reason.
func Describe(r pb.Reason) string {
	switch r {
	case pb.Reason_REASON_VALID:
		return "the token is valid"
	case pb.Reason_REASON_PUBLIC:
		return "the zoo is public: no token is needed to download from it"
	case pb.Reason_REASON_TOKEN_REQUIRED:
		return "a token is required: send it in the \"token\" header or as \"Authorization: Bearer <token>\""
	case pb.Reason_REASON_MALFORMED:
		return "the token is malformed: it is not a token of this hub (wrong prefix, length or checksum)"
	case pb.Reason_REASON_UNKNOWN:
		return "the token is unknown"
	case pb.Reason_REASON_EXPIRED:
		return "the token has expired"
	case pb.Reason_REASON_REVOKED:
		return "the token was revoked"
	case pb.Reason_REASON_NOT_MEMBER:
		return "the token's user is no longer a member of its workspace"
	case pb.Reason_REASON_DISABLED:
		return "the token is disabled"
	case pb.Reason_REASON_ZOO_NOT_FOUND:
		return "the zoo does not exist or the token may not reach it"
	case pb.Reason_REASON_OUT_OF_SCOPE:
		return "the token's scopes do not include this zoo or operation"
	}
	return "the token is not valid"
}
