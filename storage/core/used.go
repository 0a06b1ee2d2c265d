package core

import (
	"context"
	"encoding/binary"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	"tokenauthority/storage"
)

// A token's last use is a key of its own, used/<token id> holding unix
// nanoseconds (8 bytes, big-endian), so recording uses never rewrites
// token records (nor feeds the validation index). A record's own
// last_used_time (from schema 2) counts too: a caller sees the later.

// encodeUsed is the value of a used key.
func encodeUsed(at time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(max(at.UnixNano(), 0)))
}

// decodeTime reads the unix nanoseconds at the start of v (8 bytes).
func decodeTime(v []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
}

// lastUsed returns the later of the token's used key and its record's own
// time (zero when neither).
func lastUsed(r reader, rec *storagepb.TokenRecord) (time.Time, error) {
	v, err := r.get(used.key(rec.GetToken().GetTokenId()))
	if err != nil {
		return time.Time{}, err
	}
	var at time.Time
	if ts := rec.GetToken().GetLastUsedTime(); ts != nil {
		at = ts.AsTime()
	}
	if len(v) == 8 {
		if u := decodeTime(v); u.After(at) {
			at = u
		}
	}
	return at, nil
}

// mergeUsed sets each record's last_used_time to its last use: for
// records about to be returned, after any rewrite (the stored form keeps
// its own time).
func mergeUsed(r reader, recs ...*storagepb.TokenRecord) error {
	for _, rec := range recs {
		at, err := lastUsed(r, rec)
		if err != nil {
			return err
		}
		if !at.IsZero() && (rec.Token.LastUsedTime == nil || at.After(rec.Token.LastUsedTime.AsTime())) {
			rec.Token.LastUsedTime = timestamppb.New(at)
		}
	}
	return nil
}

// withUsed is mergeUsed in a read of its own, for records of a write that
// may have been split; the write is done, so the caller's cancellation
// must not turn it into an error.
func (s *Store) withUsed(ctx context.Context, recs []*storagepb.TokenRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return s.view(context.WithoutCancel(ctx), func(r reader) error { return mergeUsed(r, recs...) })
}

// RecordUses sets each token's last use to the time given, unless it is
// already as late; ids of tokens that do not exist (deleted since) are
// skipped. It writes only used keys, in commits within the engine's
// limits, and returns how many it changed; on error, the commits before
// it stand.
func (s *Store) RecordUses(ctx context.Context, uses map[string]time.Time) (int, error) {
	ids := make([]string, 0, len(uses))
	for id := range uses {
		if storage.CheckID("token", id) == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	total := 0
	// A write, and reads of the record and its used key, per token.
	for part := range slices.Chunk(ids, s.perTxn(1, 2)) {
		n := 0
		err := s.update(ctx, func(w writer) error {
			n = 0
			for _, id := range part {
				rec, err := tokenByID(w.reader, id)
				if err != nil {
					return err
				}
				if rec == nil {
					continue
				}
				last, err := lastUsed(w.reader, rec)
				if err != nil {
					return err
				}
				if at := uses[id]; at.After(last) {
					if err := w.put(used.key(id), encodeUsed(at)); err != nil {
						return err
					}
					n++
				}
			}
			return nil
		})
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
