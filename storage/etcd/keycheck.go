package etcd

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	"tokenauthority/storage"
)

// KeyChecks returns the stored key check values by master key id.
func (s *Store) KeyChecks(ctx context.Context) (map[uint32][]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	p := s.k.keyChecks()
	resp, err := s.rget(ctx, p, clientv3.WithPrefix())
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	out := map[uint32][]byte{}
	for _, kv := range resp.Kvs {
		id, err := strconv.ParseUint(string(kv.Key[len(p):]), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("key %q is not a key check of a key id", kv.Key)
		}
		out[uint32(id)] = kv.Value
	}
	return out, nil
}

// SetKeyChecks stores key check values, in one transaction. A check
// already stored with another value is kept and refused with an error
// wrapping storage.ErrAlreadyExists: two replicas started at once with
// different master keys cannot both record theirs.
func (s *Store) SetKeyChecks(ctx context.Context, checks map[uint32][]byte) error {
	for id, v := range checks {
		if len(v) == 0 {
			return fmt.Errorf("empty key check for key %d: %w", id, storage.ErrInvalid)
		}
	}
	_, err := s.update(ctx, "set key checks", func(x *txn) error {
		for id, v := range checks {
			kv, err := x.get(s.k.keyCheck(id))
			if err != nil {
				return err
			}
			if kv != nil {
				if string(kv.Value) != string(v) {
					return fmt.Errorf("key check of master key %d: another replica stored one for a different key: %w", id, storage.ErrAlreadyExists)
				}
				continue
			}
			x.putRaw(s.k.keyCheck(id), string(v))
		}
		return nil
	})
	return err
}

// SealedSample returns one sealed secret of the store (a parked seed's or
// a revealable token's), so start-up can refuse a master key that cannot
// open what is stored; storage.ErrNotFound when there is none.
func (s *Store) SealedSample(ctx context.Context) (storage.Sealed, error) {
	if err := s.check(ctx); err != nil {
		return storage.Sealed{}, err
	}
	seeds, err := s.rget(ctx, s.k.seeds(), clientv3.WithPrefix(), clientv3.WithLimit(1))
	if err != nil {
		return storage.Sealed{}, unavailable(ctx, err)
	}
	if len(seeds.Kvs) > 0 {
		kv := seeds.Kvs[0]
		rec, err := decode[storagepb.SeedRecord](kv.Value)
		if err != nil {
			return storage.Sealed{}, err
		}
		h, err := hexKey(string(kv.Key[len(s.k.seeds()):]))
		if err != nil {
			return storage.Sealed{}, err
		}
		return storage.Sealed{Value: rec.GetSealedSecret(), AAD: h}, nil
	}
	p := s.k.tokens()
	start, end := p, prefixEnd(p)
	for {
		resp, err := s.rget(ctx, start, rangeOpts(end, 200)...)
		if err != nil {
			return storage.Sealed{}, unavailable(ctx, err)
		}
		for _, kv := range resp.Kvs {
			rec, err := decodeToken(kv.Value)
			if err != nil {
				return storage.Sealed{}, err
			}
			if len(rec.GetSealedSecret()) > 0 {
				return storage.Sealed{Value: rec.GetSealedSecret(), AAD: []byte(rec.GetToken().GetTokenId())}, nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return storage.Sealed{}, fmt.Errorf("sealed secret: %w", storage.ErrNotFound)
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
