package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
)

// SeedToken returns the id of the token parked under seedHash, without
// picking it; ErrNotFound if there is none. It reads only, so a caller
// polling for a seed stays off the write path.
func (s *Store) SeedToken(ctx context.Context, seedHash [32]byte) (string, error) {
	var id string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSeeds).Get(seedHash[:])
		if v == nil {
			return fmt.Errorf("seed: %w", ErrNotFound)
		}
		rec, err := decode[storagepb.SeedRecord](v)
		if err != nil {
			return err
		}
		id = rec.GetTokenId()
		return nil
	})
	return id, err
}

// PickSeed removes the seed parked under seedHash and returns it, so a seed
// is picked at most once. ErrNotFound if there is none or it has expired (an
// expired seed is deleted as well, in a write that records no audit event,
// since nothing was picked). A seed expires at its expire_time; one without
// expire_time never does.
func (s *Store) PickSeed(ctx context.Context, seedHash [32]byte, now time.Time) (*storagepb.SeedRecord, error) {
	// The SDK polls about once a second until the seed appears; answering
	// the misses from a read transaction keeps them off the write path.
	if _, err := s.SeedToken(ctx, seedHash); err != nil {
		return nil, err
	}
	var out *storagepb.SeedRecord
	pick := func(expired bool) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketSeeds)
			v := b.Get(seedHash[:])
			if v == nil {
				return reject(fmt.Errorf("seed: %w", ErrNotFound))
			}
			rec, err := decode[storagepb.SeedRecord](v)
			if err != nil {
				return err
			}
			out = rec
			if seedExpired(rec, now) != expired {
				return reject(errSeedState)
			}
			return b.Delete(seedHash[:])
		}
	}
	err := s.update(ctx, pick(false))
	if errors.Is(err, errSeedState) {
		// Expired: delete it without the request's event.
		err = s.update(audit.Without(ctx), pick(true))
		if err == nil || errors.Is(err, errSeedState) {
			err = fmt.Errorf("seed for token %q: expired: %w", out.GetTokenId(), ErrNotFound)
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errSeedState is PickSeed's rejection of a seed whose expiry is not what
// the closure expected.
var errSeedState = errors.New("seed expiry changed")

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
