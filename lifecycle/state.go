package lifecycle

import (
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// RevokedBy reports whether t's revoke time is set and not after now. A
// revoke time in the future (a refreshed token in its grace period) is not
// yet a revocation.
func RevokedBy(t *pb.Token, now time.Time) bool {
	rt := t.GetRevokeTime()
	return rt != nil && !rt.AsTime().After(now)
}

// ExpiredBy reports whether t has an expiry time that is not after now.
func ExpiredBy(t *pb.Token, now time.Time) bool {
	et := t.GetExpireTime()
	return et != nil && !et.AsTime().After(now)
}

// State is t's state at now. Revocation is final and wins over expiry.
func State(t *pb.Token, now time.Time) pb.TokenState {
	switch {
	case RevokedBy(t, now):
		return pb.TokenState_TOKEN_STATE_REVOKED
	case ExpiredBy(t, now):
		return pb.TokenState_TOKEN_STATE_EXPIRED
	}
	return pb.TokenState_TOKEN_STATE_ACTIVE
}
