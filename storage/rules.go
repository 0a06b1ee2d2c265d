package storage

import (
	"context"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// The rules below are the ones every backend applies, exported so other
// backends reach the same code rather than a copy.

// CheckID rejects an id that cannot be stored (empty, too long, or holding
// the 0x00 separator) with an error wrapping ErrInvalid.
func CheckID(kind, id string) error { return checkID(kind, id) }

// CheckNewToken checks a record about to be stored as a new token and
// returns its encoding (with the derived state cleared).
func CheckNewToken(rec *storagepb.TokenRecord) ([]byte, error) { return checkNewToken(rec) }

// SweptBy reports whether the retention sweep with this cutoff deletes t,
// a token of a workspace with policy p (nil: none).
func SweptBy(t *pb.Token, p *pb.TokenPolicy, cutoff time.Time) bool { return sweptBy(t, p, cutoff) }

// SeedExpired reports whether a parked seed is past its expiry at now.
func SeedExpired(rec *storagepb.SeedRecord, now time.Time) bool { return seedExpired(rec, now) }

// NoteRevoked names the tokens a write revoked in the audit event of ctx,
// if it carries one.
func NoteRevoked(ctx context.Context, recs []*storagepb.TokenRecord) { noteRevoked(ctx, recs) }
