package bbolt

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/storage"
)

// RecordUses sets, in one commit, each token's last_used_time to the time
// given for it, unless the stored time is already as late. Ids of tokens
// that do not exist (deleted since their use) are skipped. It returns how
// many records it changed.
func (s *Store) RecordUses(ctx context.Context, uses map[string]time.Time) (int, error) {
	if len(uses) == 0 {
		return 0, nil
	}
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		n = 0
		records := tx.Bucket(bucketTokens)
		for id, at := range uses {
			if storage.CheckID("token", id) != nil {
				continue
			}
			v := records.Get([]byte(id))
			if v == nil {
				continue
			}
			rec, err := decodeToken(v)
			if err != nil {
				return err
			}
			if last := rec.Token.GetLastUsedTime(); last != nil && !at.After(last.AsTime()) {
				continue
			}
			rec.Token.LastUsedTime = timestamppb.New(at)
			if err := s.rewriteToken(tx, rec); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
