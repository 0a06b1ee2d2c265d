package lifecycle

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Why a token cannot be rolled or changed. Each wraps into an error that
// names the token.
var (
	// ErrRevoked means the token is revoked: revocation is final.
	ErrRevoked = errors.New("token is revoked")
	// ErrExpired means the token has expired (by its own expiry or a
	// workspace policy limit).
	ErrExpired = errors.New("token has expired")
	// ErrDisabled means the token is disabled; enable it first.
	ErrDisabled = errors.New("token is disabled")
	// ErrReused means the token was already rolled or refreshed: a second
	// roll of the same secret means two parties hold it, so its whole
	// family was revoked.
	ErrReused = errors.New("token was already rolled or refreshed; its whole family was revoked")
)

// Rollable says whether t may be rolled at now under policy p: nil, or an
// error wrapping ErrRevoked, ErrExpired, ErrDisabled or ErrReused. Reuse is
// checked last, so a dead token stays refused as dead.
func Rollable(t *pb.Token, p *pb.TokenPolicy, now time.Time) error {
	var err error
	switch StateUnder(t, p, now) {
	case pb.TokenState_TOKEN_STATE_REVOKED:
		err = ErrRevoked
	case pb.TokenState_TOKEN_STATE_EXPIRED:
		err = ErrExpired
	case pb.TokenState_TOKEN_STATE_DISABLED:
		err = ErrDisabled
	default:
		if t.GetReplacedBy() != "" {
			err = ErrReused
		}
	}
	if err != nil {
		return fmt.Errorf("token %q: %w", t.GetTokenId(), err)
	}
	return nil
}

// Changeable says whether t may be changed by UpdateToken at now: anything
// but a revoked token may (an expired one may get a later expiry).
func Changeable(t *pb.Token, now time.Time) error {
	if RevokedBy(t, now) {
		return fmt.Errorf("token %q: %w", t.GetTokenId(), ErrRevoked)
	}
	return nil
}

// Revoke records on t a revocation at at for reason, unless t is already
// revoked by at. A revocation scheduled after at (a grace period) is
// brought forward. It reports whether t changed.
func Revoke(t *pb.Token, at time.Time, reason pb.RevokeReason) bool {
	if RevokedBy(t, at) {
		return false
	}
	t.RevokeTime = timestamppb.New(at)
	t.RevokeReason = reason
	return true
}

// Successor fills next, the token that replaces old by a roll or refresh,
// with what a roll keeps (workspace, user, description, scopes) and the
// family links: next replaces old and belongs to old's family, whose id is
// the id of its first token.
func Successor(old, next *pb.Token) {
	next.WorkspaceId = old.GetWorkspaceId()
	next.UserId = old.GetUserId()
	next.Description = old.GetDescription()
	next.Operations = append([]pb.Operation(nil), old.GetOperations()...)
	next.Zoos = append([]string(nil), old.GetZoos()...)
	next.Disabled = false
	next.Replaces = old.GetTokenId()
	next.FamilyId = FamilyID(old)
	next.ReplacedBy = ""
}

// FamilyID is the id of t's family: its family_id, or its own id for a
// token stored before families were recorded.
func FamilyID(t *pb.Token) string {
	if id := t.GetFamilyId(); id != "" {
		return id
	}
	return t.GetTokenId()
}

// Retire marks old as replaced by nextID at now: its secret keeps working
// for grace (0: stops now), shown as its scheduled revoke time, never later
// than a revocation already scheduled.
func Retire(old *pb.Token, nextID string, now time.Time, grace time.Duration) {
	old.ReplacedBy = nextID
	if old.FamilyId == "" {
		old.FamilyId = old.GetTokenId()
	}
	at := now.Add(grace)
	if rt := old.GetRevokeTime(); rt == nil || at.Before(rt.AsTime()) {
		old.RevokeTime = timestamppb.New(at)
		old.RevokeReason = pb.RevokeReason_REVOKE_REASON_ROLLED
	}
}

// DefaultRefreshReuseInterval is how long after a refresh a repeat of it
// is answered with the same successor (--refresh-reuse-interval).
const DefaultRefreshReuseInterval = 30 * time.Second

// RepeatRefresh says whether a refresh of old at now, which Rollable
// refused with ErrReused because next already replaced it, is a client's
// retry of the refresh that made next (it lost the answer), to be answered
// with next again, or a reuse that revokes the family. within is the
// refresh reuse interval (0: no repeats); p is the workspace's token
// policy.
//
//	next.replaces != old.token_id               reuse
//	within <= 0                                 reuse
//	now - next.create_time >= within            reuse (a successor stamped
//	                                            ahead of now counts as new)
//	next replaced in turn (next.replaced_by)    reuse: the chain moved on
//	next not ACTIVE under p at now              reuse
//	otherwise                                   repeat
//
// The trade: whoever else holds old's secret inside the interval (a thief
// who copied it) gets next too, as its owner would, instead of revealing
// the theft by revoking the family.
func RepeatRefresh(old, next *pb.Token, p *pb.TokenPolicy, within time.Duration, now time.Time) bool {
	switch {
	case next.GetReplaces() != old.GetTokenId() || old.GetReplacedBy() != next.GetTokenId():
		return false
	case within <= 0 || next.GetCreateTime() == nil:
		return false
	case now.Sub(next.GetCreateTime().AsTime()) >= within:
		return false
	case next.GetReplacedBy() != "":
		return false
	}
	return StateUnder(next, p, now) == pb.TokenState_TOKEN_STATE_ACTIVE
}
