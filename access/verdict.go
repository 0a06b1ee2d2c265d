package access

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
	"tokenauthority/token"
)

// Verdict is what the authority knows of a presented secret.
type Verdict struct {
	// Reason is REASON_VALID for a token that may be used, else why not.
	Reason pb.Reason
	// Record is the matching token; nil when the secret matched none.
	Record *storagepb.TokenRecord
	// At is the time the verdict holds for.
	At time.Time
}

// Valid reports whether the secret is a token that may be used.
func (v Verdict) Valid() bool { return v.Reason == pb.Reason_REASON_VALID }

// Token is the matching token, or nil.
func (v Verdict) Token() *pb.Token { return v.Record.GetToken() }

// Resolve finds the token of a presented secret and says whether it is
// valid at the authority's current time. A secret of the wrong shape or
// checksum is refused before the store is consulted. A valid verdict counts
// as a use of the token.
func (a *Authority) Resolve(ctx context.Context, secret string) (Verdict, error) {
	v, err := a.resolve(ctx, secret, a.now())
	if err != nil {
		return Verdict{}, err
	}
	if v.Valid() {
		a.used(ctx, v.Token(), v.At)
	}
	return v, nil
}

// resolve is Resolve at now, without recording a use.
func (a *Authority) resolve(ctx context.Context, secret string, now time.Time) (Verdict, error) {
	if token.Check(secret) != nil {
		return Verdict{Reason: pb.Reason_REASON_MALFORMED, At: now}, nil
	}
	hash := token.Hash(secret)
	rec, member, err := a.store.LookupToken(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return Verdict{Reason: pb.Reason_REASON_UNKNOWN, At: now}, nil
	}
	if err != nil {
		return Verdict{}, err
	}
	// The index is keyed by the hash, so a hit already matched; comparing the
	// stored hash again guards against a corrupted index entry.
	if subtle.ConstantTimeCompare(rec.GetSecretHash(), hash[:]) != 1 {
		return Verdict{Reason: pb.Reason_REASON_UNKNOWN, At: now}, nil
	}
	return Verdict{Reason: tokenReason(rec.GetToken(), member, now), Record: rec, At: now}, nil
}

// tokenReason is the one function that says whether a stored token may be
// used at now: its lifecycle state, then its user's membership.
func tokenReason(t *pb.Token, member bool, now time.Time) pb.Reason {
	switch lifecycle.State(t, now) {
	case pb.TokenState_TOKEN_STATE_REVOKED:
		return pb.Reason_REASON_REVOKED
	case pb.TokenState_TOKEN_STATE_EXPIRED:
		return pb.Reason_REASON_EXPIRED
	}
	if !member {
		return pb.Reason_REASON_NOT_MEMBER
	}
	return pb.Reason_REASON_VALID
}
