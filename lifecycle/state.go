package lifecycle

import (
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/token"
)

// RevokedBy reports whether t's revoke time is set and not after now. A
// revoke time in the future (a rolled token in its grace period) is not
// yet a revocation.
func RevokedBy(t *pb.Token, now time.Time) bool {
	return ReachedStamp(t.GetRevokeTime(), now)
}

// InGrace reports whether t is scheduled to be revoked after now: a rolled
// or refreshed token whose old secret still works.
func InGrace(t *pb.Token, now time.Time) bool {
	return t.GetRevokeTime() != nil && !RevokedBy(t, now)
}

// ExpiredBy reports whether t has an expiry time that is not after now. It
// reads the stored expiry only; ExpiredUnder also applies a workspace policy.
func ExpiredBy(t *pb.Token, now time.Time) bool {
	return ReachedStamp(t.GetExpireTime(), now)
}

// ExpiredUnder reports whether t has stopped by expiry at now under the
// workspace policy p (nil: none): its own expiry, or a limit of p.
func ExpiredUnder(t *pb.Token, p *pb.TokenPolicy, now time.Time) bool {
	return Reached(End(t, p), now)
}

// End is when t stops by expiry under the workspace policy p (nil: none):
// the earliest of its expire_time, its create_time plus p's max_lifetime,
// and its family's start plus p's max_family_lifetime. Zero means never.
// Policy limits apply to tokens created before the policy, so lowering a
// limit ends the tokens that outlive it.
func End(t *pb.Token, p *pb.TokenPolicy) time.Time {
	var end time.Time
	earliest := func(c time.Time) {
		if end.IsZero() || c.Before(end) {
			end = c
		}
	}
	if et := t.GetExpireTime(); et != nil {
		earliest(et.AsTime())
	}
	if d := p.GetMaxLifetime(); d != nil && t.GetCreateTime() != nil {
		earliest(t.GetCreateTime().AsTime().Add(d.AsDuration()))
	}
	if d := p.GetMaxFamilyLifetime(); d != nil {
		if start, ok := FamilyStart(t); ok {
			earliest(start.Add(d.AsDuration()))
		}
	}
	return end
}

// FamilyStart is when the first token of t's family was created: the time
// carried by its family id (ids encode their creation time), or t's own
// create time when it has no family id. False when neither is known.
func FamilyStart(t *pb.Token) (time.Time, bool) {
	if id := t.GetFamilyId(); id != "" && id != t.GetTokenId() {
		if at, ok := token.IDTime(id); ok {
			return at, true
		}
	}
	if ct := t.GetCreateTime(); ct != nil {
		return ct.AsTime(), true
	}
	return time.Time{}, false
}

// State is t's state at now without a workspace policy; see StateUnder.
func State(t *pb.Token, now time.Time) pb.TokenState {
	return StateUnder(t, nil, now)
}

// StateUnder is t's state at now under the workspace policy p (nil: none).
// The order is from final to reversible: revoked (final) wins over expired,
// which wins over disabled (undone by enabling).
//
//	revoke_time <= now                    REVOKED
//	End(t, p) <= now                      EXPIRED
//	disabled                              DISABLED
//	otherwise (also in a grace period)    ACTIVE
func StateUnder(t *pb.Token, p *pb.TokenPolicy, now time.Time) pb.TokenState {
	switch {
	case RevokedBy(t, now):
		return pb.TokenState_TOKEN_STATE_REVOKED
	case ExpiredUnder(t, p, now):
		return pb.TokenState_TOKEN_STATE_EXPIRED
	case t.GetDisabled():
		return pb.TokenState_TOKEN_STATE_DISABLED
	}
	return pb.TokenState_TOKEN_STATE_ACTIVE
}

// Reason is the verdict on a presented token at now: REASON_VALID, or why
// it is refused. member says whether its user is still a member of its
// workspace; p is the workspace's token policy (nil: none).
//
//	state REVOKED     REASON_REVOKED
//	state EXPIRED     REASON_EXPIRED
//	user not member   REASON_NOT_MEMBER
//	state DISABLED    REASON_DISABLED
//	otherwise         REASON_VALID
//
// Membership comes before disabled because leaving the workspace is final
// and disabling is not: the caller learns the lasting reason.
func Reason(t *pb.Token, member bool, p *pb.TokenPolicy, now time.Time) pb.Reason {
	switch StateUnder(t, p, now) {
	case pb.TokenState_TOKEN_STATE_REVOKED:
		return pb.Reason_REASON_REVOKED
	case pb.TokenState_TOKEN_STATE_EXPIRED:
		return pb.Reason_REASON_EXPIRED
	}
	if !member {
		return pb.Reason_REASON_NOT_MEMBER
	}
	if t.GetDisabled() {
		return pb.Reason_REASON_DISABLED
	}
	return pb.Reason_REASON_VALID
}
