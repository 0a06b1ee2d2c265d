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

// encodeUsed is the value of a token's used/<token id> key: unix nanoseconds,
// 8 bytes big-endian. Last uses live apart so recording them never rewrites
// token records (nor feeds the validation index); a record's own
// last_used_time (schema 2) counts too, and callers see the later.
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

// mergeUsed sets each record's last_used_time to its last use, for records
// about to be returned: after any rewrite, as the stored form keeps its own.
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
// already as late, skipping tokens that do not exist. It writes only used
// keys, in commits within the engine's limits, and returns how many it
// changed; on error, the commits before it stand.
func (s *Store) RecordUses(ctx context.Context, uses map[string]time.Time) (int, error) {
	ids := make([]string, 0, len(uses))
	for id := range uses {
		if storage.CheckID("token", id) == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	// A write, and reads of the record and its used key, per token.
	return commitEach(ctx, s, ids, s.perTxn(1, 2), func(w writer, id string) (bool, error) {
		rec, err := tokenByID(w.reader, id)
		if err != nil || rec == nil {
			return false, err
		}
		last, err := lastUsed(w.reader, rec)
		if err != nil || !uses[id].After(last) {
			return false, err
		}
		return true, w.put(used.key(id), encodeUsed(uses[id]))
	})
}

// commitEach runs fn on items in commits of at most per items, and returns
// how many fn reported done in the commits that succeeded; on error, the
// commits before it stand. fn may run more than once per item.
func commitEach[T any](ctx context.Context, s *Store, items []T, per int, fn func(writer, T) (bool, error)) (int, error) {
	total := 0
	for part := range slices.Chunk(items, per) {
		n, err := updated(ctx, s, func(w writer) (n int, err error) {
			for _, it := range part {
				done, err := fn(w, it)
				if err != nil {
					return 0, err
				}
				if done {
					n++
				}
			}
			return n, nil
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
