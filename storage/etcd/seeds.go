package etcd

import (
	"bytes"
	"context"
	"fmt"
	"time"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// PickSeed hands out a parked seed once: open runs outside any
// transaction, and the seed is deleted only if it is unchanged since it was
// read, so of two replicas picking the same seed one wins.
func (s *Store) PickSeed(ctx context.Context, seedHash [32]byte, now time.Time, open func(*storagepb.SeedRecord) error) (*storagepb.SeedRecord, error) {
	kv, err := s.get(ctx, s.k.seed(seedHash[:]))
	if err != nil {
		return nil, err
	}
	if kv == nil {
		return nil, fmt.Errorf("seed: %w", storage.ErrNotFound)
	}
	raw := bytes.Clone(kv.Value)
	rec, err := decode[storagepb.SeedRecord](raw)
	if err != nil {
		return nil, err
	}
	dead, err := s.seedDead(ctx, nil, rec, now)
	if err != nil {
		return nil, err
	}
	if dead == "" {
		if err := open(rec); err != nil {
			return nil, err
		}
	}
	var lost string
	_, err = s.update(ctx, "pick seed", func(x *txn) error {
		lost = dead
		kv, err := x.get(s.k.seed(seedHash[:]))
		if err != nil {
			return err
		}
		if kv == nil || !bytes.Equal(kv.Value, raw) {
			return fmt.Errorf("seed: %w", storage.ErrNotFound)
		}
		if lost == "" {
			if lost, err = s.seedDead(ctx, x, rec, now); err != nil {
				return err
			}
		}
		x.del(s.k.seed(seedHash[:]))
		x.del(s.k.seedOf(rec.GetTokenId()))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if lost != "" {
		return nil, fmt.Errorf("seed for token %q: %s: %w", rec.GetTokenId(), lost, storage.ErrNotFound)
	}
	return rec, nil
}

// seedDead says why a seed can no longer be picked ("" when it can),
// reading the token in x when given.
func (s *Store) seedDead(ctx context.Context, x *txn, rec *storagepb.SeedRecord, now time.Time) (string, error) {
	if storage.SeedExpired(rec, now) {
		return "expired", nil
	}
	var v []byte
	if x != nil {
		kv, err := x.get(s.k.token(rec.GetTokenId()))
		if err != nil {
			return "", err
		}
		if kv != nil {
			v = kv.Value
		}
	} else {
		kv, err := s.get(ctx, s.k.token(rec.GetTokenId()))
		if err != nil {
			return "", err
		}
		if kv != nil {
			v = kv.Value
		}
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

// PurgeExpiredSeeds deletes the seeds past their expiry, in bounded
// transactions.
func (s *Store) PurgeExpiredSeeds(ctx context.Context, now time.Time) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	p := s.k.seeds()
	start, end := p, prefixEnd(p)
	total := 0
	for {
		resp, err := s.rget(ctx, start, rangeOpts(end, maxOps/3)...)
		if err != nil {
			return total, unavailable(ctx, err)
		}
		var expired []string
		for _, kv := range resp.Kvs {
			rec, err := decode[storagepb.SeedRecord](kv.Value)
			if err != nil {
				return total, err
			}
			if storage.SeedExpired(rec, now) {
				expired = append(expired, string(kv.Key))
			}
		}
		if len(expired) > 0 {
			var n int
			_, err := s.update(ctx, "purge seeds", func(x *txn) error {
				n = 0
				for _, k := range expired {
					kv, err := x.get(k)
					if err != nil {
						return err
					}
					if kv == nil {
						continue
					}
					rec, err := decode[storagepb.SeedRecord](kv.Value)
					if err != nil {
						return err
					}
					if !storage.SeedExpired(rec, now) {
						continue
					}
					x.del(k)
					x.del(s.k.seedOf(rec.GetTokenId()))
					n++
				}
				return nil
			})
			total += n
			if err != nil {
				return total, err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return total, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
