package storage

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/lifecycle"
)

// MaxKeyIDLen is the longest id put into a key, far below any engine's
// limit; the API's stricter id rules (access.ValidID) apply first.
const MaxKeyIDLen = 512

// CheckID refuses (ErrInvalid) an id that cannot be stored: empty, too
// long, or holding 0x00, the separator of composite keys.
func CheckID(kind, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("empty %s id: %w", kind, ErrInvalid)
	case len(id) > MaxKeyIDLen:
		return fmt.Errorf("%s id longer than %d bytes: %w", kind, MaxKeyIDLen, ErrInvalid)
	case strings.IndexByte(id, 0x00) >= 0:
		return fmt.Errorf("%s id %q contains a 0x00 byte: %w", kind, id, ErrInvalid)
	}
	return nil
}

// CheckNewToken checks a new token's record and returns its encoding,
// without the state and effective end, which are computed on read.
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
	if t.State != pb.TokenState_TOKEN_STATE_UNSPECIFIED || t.EffectiveExpireTime != nil {
		rec = proto.CloneOf(rec)
		rec.Token.State = pb.TokenState_TOKEN_STATE_UNSPECIFIED
		rec.Token.EffectiveExpireTime = nil
	}
	b, err := proto.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", rec, err)
	}
	return b, nil
}

// SweptBy reports whether the retention sweep with this cutoff deletes t
// (under policy p, nil: none): it was revoked or expired by cutoff.
func SweptBy(t *pb.Token, p *pb.TokenPolicy, cutoff time.Time) bool {
	return lifecycle.RevokedBy(t, cutoff) || lifecycle.ExpiredUnder(t, p, cutoff)
}

// SeedExpired reports whether now is at or past a parked seed's expiry.
func SeedExpired(rec *storagepb.SeedRecord, now time.Time) bool {
	return lifecycle.ReachedStamp(rec.GetExpireTime(), now)
}

// NoteRevoked names the tokens a write revoked in ctx's audit event, if
// any. Call it in the write's transaction, after the revocation.
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

// RevokedPerEvent is the most token ids one audit event names, well under
// etcd's default request limit (20,000 ids are about 560 KiB of 1.5 MiB).
const RevokedPerEvent = 20000

// SplitRevoked leaves ev naming its first per revoked token ids and
// returns, in order, copies of ev naming the next per each, to append
// after it (nil when ev names no more than per).
func SplitRevoked(ev *pb.AuditEvent, per int) []*pb.AuditEvent {
	ids := ev.GetRevokedTokenIds()
	if per <= 0 || len(ids) <= per {
		return nil
	}
	ev.RevokedTokenIds = nil
	var rest []*pb.AuditEvent
	for more := ids[per:]; len(more) > 0; {
		part := more[:min(len(more), per)]
		more = more[len(part):]
		c := proto.CloneOf(ev)
		c.RevokedTokenIds = slices.Clone(part)
		rest = append(rest, c)
	}
	ev.RevokedTokenIds = ids[:per:per]
	return rest
}

// ChangeToken runs an UpdateToken's change on t, refusing (ErrInvalid) a
// change of what only create, roll and revoke set. It reports whether
// Disabled flipped, which the store carries to t's descendants.
func ChangeToken(t *pb.Token, policy *pb.TokenPolicy, change func(t *pb.Token, p *pb.TokenPolicy) error) (disabledFlipped bool, err error) {
	id, ws, user, replaces, replacedBy, family := t.TokenId, t.WorkspaceId, t.UserId, t.Replaces, t.ReplacedBy, t.FamilyId
	revokeAt, revokeReason := proto.CloneOf(t.RevokeTime), t.RevokeReason
	wasDisabled := t.Disabled
	if err := change(t, policy); err != nil {
		return false, err
	}
	if t.TokenId != id || t.WorkspaceId != ws || t.UserId != user || t.Replaces != replaces || t.ReplacedBy != replacedBy || t.FamilyId != family ||
		!proto.Equal(t.RevokeTime, revokeAt) || t.RevokeReason != revokeReason {
		return false, fmt.Errorf("token %q: an immutable field was changed: %w", id, ErrInvalid)
	}
	return t.Disabled != wasDisabled, nil
}

// RevokeIDs checks RevokeTokens' arguments and returns the token ids
// without repeats, in their first order.
func RevokeIDs(workspaceID string, tokenIDs []string) ([]string, error) {
	if err := CheckID("workspace", workspaceID); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(tokenIDs))
	seen := make(map[string]bool, len(tokenIDs))
	for _, id := range tokenIDs {
		if err := CheckID("token", id); err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}
