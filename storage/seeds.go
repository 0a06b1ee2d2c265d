package storage

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
)

// PickSeed removes the seed parked under seedHash and returns it, so a seed
// is picked at most once. ErrNotFound if there is none or it has expired (an
// expired seed is deleted as well). A seed expires at its expire_time; one
// without expire_time never does.
func (s *Store) PickSeed(ctx context.Context, seedHash [32]byte, now time.Time) (*storagepb.SeedRecord, error) {
	// The SDK polls about once a second until the seed appears; answering
	// the misses from a read transaction keeps them off the write path.
	var parked bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		parked = tx.Bucket(bucketSeeds).Get(seedHash[:]) != nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !parked {
		return nil, fmt.Errorf("seed: %w", ErrNotFound)
	}
	var out *storagepb.SeedRecord
	var expired bool
	err = s.update(ctx, func(tx *bolt.Tx) error {
		expired = false
		b := tx.Bucket(bucketSeeds)
		v := b.Get(seedHash[:])
		if v == nil {
			return reject(fmt.Errorf("seed: %w", ErrNotFound))
		}
		rec, err := decode[storagepb.SeedRecord](v)
		if err != nil {
			return err
		}
		out, expired = rec, seedExpired(rec, now)
		return b.Delete(seedHash[:])
	})
	if err != nil {
		return nil, err
	}
	if expired {
		return nil, fmt.Errorf("seed for token %q: expired: %w", out.GetTokenId(), ErrNotFound)
	}
	return out, nil
}

// PurgeExpiredSeeds deletes every seed expired at now and returns how many.
func (s *Store) PurgeExpiredSeeds(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSeeds)
		var expired [][]byte
		err := b.ForEach(func(k, v []byte) error {
			rec, err := decode[storagepb.SeedRecord](v)
			if err != nil {
				return err
			}
			if seedExpired(rec, now) {
				expired = append(expired, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		n = len(expired)
		return deleteKeys(b, expired)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// seedExpired reports whether now is at or past the seed's expire_time.
func seedExpired(rec *storagepb.SeedRecord, now time.Time) bool {
	et := rec.GetExpireTime()
	return et != nil && !now.Before(et.AsTime())
}
