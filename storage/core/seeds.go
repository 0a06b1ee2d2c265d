package core

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"tokenauthority/audit"
	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// PickSeed hands out the token parked under seedHash, at most once: open
// gets the parked record outside any transaction and, only if it succeeds,
// a commit deletes the seed after checking it is the one read and its token
// still stands, so concurrent picks (on any replicas) cannot both win. A
// failed open leaves the seed and returns its error. The pick records the
// audit event of ctx; open may name its target.
//
// ErrNotFound if there is no seed, it expired (expire_time at or before
// now; none: never) or its token was deleted or revoked by now; such a seed
// is deleted, recording no event. One whose token was revoked between the
// read and the commit is left for the next pick or purge.
func (s *Store) PickSeed(ctx context.Context, seedHash [32]byte, now time.Time, open func(*storagepb.SeedRecord) error) (*storagepb.SeedRecord, error) {
	key := seeds.raw(seedHash[:])
	// The SDK polls about once a second until the seed appears; answering
	// the misses from a read transaction keeps them off the write path.
	var raw []byte
	var rec *storagepb.SeedRecord
	var dead string
	err := s.view(ctx, func(r reader) error {
		v, err := r.get(key)
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("seed: %w", storage.ErrNotFound)
		}
		raw = bytes.Clone(v)
		if rec, err = decode[storagepb.SeedRecord](raw); err != nil {
			return err
		}
		dead, err = seedDead(r, rec, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if dead != "" {
		ctx = audit.Without(ctx)
	} else if err := open(rec); err != nil {
		return nil, err
	}
	gone := func(why string) error {
		return fmt.Errorf("seed for token %q: %s: %w", rec.GetTokenId(), why, storage.ErrNotFound)
	}
	err = s.update(ctx, func(w writer) error {
		v, err := w.get(key)
		if err != nil {
			return err
		}
		if v == nil || !bytes.Equal(v, raw) {
			return reject(fmt.Errorf("seed: %w", storage.ErrNotFound))
		}
		if dead == "" {
			// Revoked since the read: the pick loses, writing nothing.
			lost, err := seedDead(w.reader, rec, now)
			if err != nil {
				return err
			}
			if lost != "" {
				return reject(gone(lost))
			}
		}
		return delSeed(w, key, rec)
	})
	if err != nil {
		return nil, err
	}
	if dead != "" {
		return nil, gone(dead)
	}
	return rec, nil
}

// seedDead says why a parked seed can no longer be picked, or "" when it can.
func seedDead(r reader, rec *storagepb.SeedRecord, now time.Time) (string, error) {
	if storage.SeedExpired(rec, now) {
		return "expired", nil
	}
	v, err := r.get(tokens.key(rec.GetTokenId()))
	if err != nil {
		return "", err
	}
	if v == nil {
		return "token deleted", nil
	}
	t, err := decodeToken(v)
	if err != nil || lifecycle.RevokedBy(t.GetToken(), now) {
		return "token revoked", nil
	}
	return "", nil
}

// delSeed deletes the seed under key (record rec) and its token's link to it.
func delSeed(w writer, key []byte, rec *storagepb.SeedRecord) error {
	if err := w.del(key); err != nil {
		return err
	}
	return w.del(seedOf.key(rec.GetTokenId()))
}

// seedScan is how many parked seeds one read of PurgeExpiredSeeds visits.
const seedScan = 1000

// PurgeExpiredSeeds deletes every seed expired at now and returns how
// many. It finds them in reads and deletes them in commits within the
// engine's limits, each deleting only seeds still expired; on error, the
// commits before it stand.
func (s *Store) PurgeExpiredSeeds(ctx context.Context, now time.Time) (int, error) {
	total := 0
	err := s.eachPage(ctx, seeds.all(), seedScan, func(page []kv) error {
		var expired [][]byte
		for _, p := range page {
			rec, err := decode[storagepb.SeedRecord](p.v)
			if err != nil {
				return fmt.Errorf("parked seed: %w", err)
			}
			if storage.SeedExpired(rec, now) {
				expired = append(expired, seeds.raw(p.k))
			}
		}
		// A seed is two deletes and a read.
		n, err := commitEach(ctx, s, expired, s.perTxn(2, 1), func(w writer, k []byte) (bool, error) {
			rec, err := getMsg[storagepb.SeedRecord](w.reader, k)
			if err != nil || rec == nil || !storage.SeedExpired(rec, now) {
				return false, err // picked, purged or parked again meanwhile
			}
			return true, delSeed(w, k, rec)
		})
		total += n
		return err
	})
	return total, err
}
