package bbolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// PickSeed hands out the token parked under seedHash, at most once. It
// reads the parked record and calls open with it outside any transaction;
// only when open succeeds is the seed deleted, in a commit that first checks
// the seed is still the one read (so two concurrent picks cannot both win)
// and its token still stands. A failed open (a master key that cannot
// decrypt it, say) leaves the seed in place and returns open's error. The
// pick records the audit event of ctx; open may still name its target.
//
// ErrNotFound if there is no seed, it has expired (expire_time at or before
// now; one without expire_time never does), or its token was deleted or
// revoked by now. Such a seed is deleted as well, in a write that records no
// audit event, since nothing was picked; one whose token was revoked between
// the read and the commit is left for the next pick or purge to delete.
func (s *Store) PickSeed(ctx context.Context, seedHash [32]byte, now time.Time, open func(*storagepb.SeedRecord) error) (*storagepb.SeedRecord, error) {
	// The SDK polls about once a second until the seed appears; answering
	// the misses from a read transaction keeps them off the write path.
	var raw []byte
	var rec *storagepb.SeedRecord
	var dead string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSeeds).Get(seedHash[:])
		if v == nil {
			return fmt.Errorf("seed: %w", storage.ErrNotFound)
		}
		raw = bytes.Clone(v)
		var err error
		if rec, err = decode[storagepb.SeedRecord](raw); err != nil {
			return err
		}
		dead = seedDead(tx, rec, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dead != "" {
		ctx = audit.Without(ctx)
	} else if err := open(rec); err != nil {
		return nil, err
	}
	var lost string
	err = s.update(ctx, func(tx *bolt.Tx) error {
		lost = ""
		b := tx.Bucket(bucketSeeds)
		if v := b.Get(seedHash[:]); v == nil || !bytes.Equal(v, raw) {
			return reject(fmt.Errorf("seed: %w", storage.ErrNotFound))
		}
		if dead == "" {
			// Revoked between the read and this commit: the pick loses,
			// and the rejection writes nothing (nor the pick's event).
			if lost = seedDead(tx, rec, now); lost != "" {
				return reject(fmt.Errorf("seed for token %q: %s: %w", rec.GetTokenId(), lost, storage.ErrNotFound))
			}
		}
		return b.Delete(seedHash[:])
	})
	if err != nil {
		return nil, err
	}
	if dead != "" {
		return nil, fmt.Errorf("seed for token %q: %s: %w", rec.GetTokenId(), dead, storage.ErrNotFound)
	}
	return rec, nil
}

// seedDead says why a parked seed can no longer be picked, or "" when it can.
func seedDead(tx *bolt.Tx, rec *storagepb.SeedRecord, now time.Time) string {
	if storage.SeedExpired(rec, now) {
		return "expired"
	}
	v := tx.Bucket(bucketTokens).Get([]byte(rec.GetTokenId()))
	if v == nil {
		return "token deleted"
	}
	t, err := decodeToken(v)
	if err != nil || lifecycle.RevokedBy(t.GetToken(), now) {
		return "token revoked"
	}
	return ""
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
			if storage.SeedExpired(rec, now) {
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
