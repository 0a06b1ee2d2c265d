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
	// Record is the matching token; nil when the secret matched none. It
	// is the caller's own: a transport may change it to render it.
	Record *storagepb.TokenRecord
	// Policy is the token policy of Record's workspace; nil when it has
	// none (or the secret matched no token).
	Policy *pb.TokenPolicy
	// At is the time the verdict holds for.
	At time.Time
}

// Valid reports whether the secret is a token that may be used.
func (v Verdict) Valid() bool { return v.Reason == pb.Reason_REASON_VALID }

// Token is the matching token, or nil.
func (v Verdict) Token() *pb.Token { return v.Record.GetToken() }

// End is when the matching token stops by expiry under its workspace's
// policy (lifecycle.End); zero when it never does or no token matched.
func (v Verdict) End() time.Time {
	if v.Record == nil {
		return time.Time{}
	}
	return lifecycle.End(v.Token(), v.Policy)
}

// Resolve finds the token of a presented secret and says whether it is
// valid at the authority's current time. A secret of the wrong shape or
// checksum is refused before the store is consulted. A valid verdict counts
// as a use of the token.
func (a *Authority) Resolve(ctx context.Context, secret string) (Verdict, error) {
	return a.ResolveInto(ctx, secret, nil)
}

// ResolveInto is Resolve decoding the matching token into rec, an ordinary
// record the caller owns and may reuse from one call to the next, when the
// store can (the bbolt store): a caller that reuses one allocates nothing.
// The verdict's Record is then rec, overwritten with its token's timestamps
// and scope slices (see validindex.Index.LookupInto); with another store,
// or a nil rec, it is a new record as Resolve gives.
func (a *Authority) ResolveInto(ctx context.Context, secret string, rec *storagepb.TokenRecord) (Verdict, error) {
	if a.traced(ctx) {
		return a.resolveTraced(ctx, secret, rec)
	}
	return a.resolveUsed(ctx, secret, rec)
}

// resolveUsed is ResolveInto without a span.
func (a *Authority) resolveUsed(ctx context.Context, secret string, rec *storagepb.TokenRecord) (Verdict, error) {
	v, err := a.resolve(ctx, secret, a.now(), rec)
	if err != nil {
		return Verdict{}, err
	}
	if v.Valid() {
		a.used(ctx, v.Token(), v.At)
	}
	return v, nil
}

// resolve is ResolveInto at now, without recording a use.
func (a *Authority) resolve(ctx context.Context, secret string, now time.Time, into *storagepb.TokenRecord) (Verdict, error) {
	if token.Check(secret) != nil {
		return Verdict{Reason: pb.Reason_REASON_MALFORMED, At: now}, nil
	}
	hash := token.Hash(secret)
	var (
		rec    *storagepb.TokenRecord
		member bool
		policy *pb.TokenPolicy
		err    error
	)
	if into != nil && a.into != nil {
		rec = into
		member, policy, err = a.into.LookupTokenInto(ctx, hash, into)
	} else {
		rec, member, policy, err = a.store.LookupTokenWithPolicy(ctx, hash)
	}
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
	return Verdict{Reason: tokenReason(rec.GetToken(), member, policy, now), Record: rec, Policy: policy, At: now}, nil
}

// tokenReason is the one function that says whether a stored token may be
// used at now: the lifecycle verdict under its workspace's token policy p
// (revoked, expired, then its user's membership, then disabled).
func tokenReason(t *pb.Token, member bool, p *pb.TokenPolicy, now time.Time) pb.Reason {
	return lifecycle.Reason(t, member, p, now)
}
