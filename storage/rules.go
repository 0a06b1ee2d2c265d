package storage

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

// The rules below are the ones every backend applies, in one place so that
// every backend reaches the same code rather than a copy.

// MaxIDLen bounds ids far below any backend's key size limit.
const MaxIDLen = 512

// CheckID rejects an id that cannot be stored (empty, too long, or holding
// a 0x00 byte, which every backend keeps as the separator of composite
// keys) with an error wrapping ErrInvalid.
func CheckID(kind, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("empty %s id: %w", kind, ErrInvalid)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%s id longer than %d bytes: %w", kind, MaxIDLen, ErrInvalid)
	case strings.IndexByte(id, 0x00) >= 0:
		return fmt.Errorf("%s id %q contains a 0x00 byte: %w", kind, id, ErrInvalid)
	}
	return nil
}

// CheckNewToken checks a record about to be stored as a new token and
// returns its encoding (with the derived state cleared).
func CheckNewToken(rec *storagepb.TokenRecord) ([]byte, error) {
	if rec.GetToken() == nil {
		return nil, fmt.Errorf("nil token record: %w", ErrInvalid)
	}
	t := rec.Token
	for _, id := range []struct{ kind, id string }{
		{"token", t.TokenId}, {"workspace", t.WorkspaceId}, {"user", t.UserId},
	} {
		if err := CheckID(id.kind, id.id); err != nil {
			return nil, err
		}
	}
	if len(rec.SecretHash) != sha256.Size {
		return nil, fmt.Errorf("token %q: secret hash has %d bytes, want %d: %w", t.TokenId, len(rec.SecretHash), sha256.Size, ErrInvalid)
	}
	if t.State != pb.TokenState_TOKEN_STATE_UNSPECIFIED {
		// State is computed on read, never stored.
		rec = proto.CloneOf(rec)
		rec.Token.State = pb.TokenState_TOKEN_STATE_UNSPECIFIED
	}
	b, err := proto.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", rec, err)
	}
	return b, nil
}

// SweptBy reports whether the retention sweep with this cutoff deletes t,
// a token of a workspace with policy p (nil: none): whether it has ended
// (revoked, or expired under p) at or before cutoff.
func SweptBy(t *pb.Token, p *pb.TokenPolicy, cutoff time.Time) bool {
	return lifecycle.RevokedBy(t, cutoff) || lifecycle.ExpiredUnder(t, p, cutoff)
}

// SeedExpired reports whether a parked seed is past its expiry at now:
// whether now is at or past its expire_time.
func SeedExpired(rec *storagepb.SeedRecord, now time.Time) bool {
	et := rec.GetExpireTime()
	return et != nil && !now.Before(et.AsTime())
}

// NoteRevoked names the tokens a write revoked in the audit event of ctx,
// if it carries one. Call it inside the write's transaction, after the
// revocation: the event is drafted once the write's change is decided.
func NoteRevoked(ctx context.Context, recs []*storagepb.TokenRecord) {
	p := audit.FromContext(ctx)
	if p == nil {
		return
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.GetToken().GetTokenId()
	}
	p.SetRevoked(ids)
}
