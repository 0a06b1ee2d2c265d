package bbolt

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	"tokenauthority/storage"
)

// keyKeyCheck is the meta key of the key check value: a constant sealed
// under the master key when the store first met it, so that a start with
// another key is refused before it fails on a real secret.
var keyKeyCheck = []byte("key_check")

// KeyCheck returns the stored key check value; ErrNotFound if none was
// stored yet (a new store, or one written before the value existed).
func (s *Store) KeyCheck(ctx context.Context) ([]byte, error) {
	var out []byte
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyKeyCheck)
		if v == nil {
			return fmt.Errorf("key check: %w", storage.ErrNotFound)
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// SetKeyCheck stores the key check value, replacing any.
func (s *Store) SetKeyCheck(ctx context.Context, v []byte) error {
	if len(v) == 0 {
		return fmt.Errorf("empty key check: %w", storage.ErrInvalid)
	}
	v = bytes.Clone(v)
	return s.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyKeyCheck, v)
	})
}

// SealedSample returns one sealed secret of the store (a parked seed's, or a
// revealable token's), to tell whether a master key opens the store's
// secrets; ErrNotFound if the store holds none. It may walk every token
// record of a store that keeps hashes only, so call it at start, not per
// request.
func (s *Store) SealedSample(ctx context.Context) (storage.Sealed, error) {
	var out storage.Sealed
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if k, v := tx.Bucket(bucketSeeds).Cursor().First(); k != nil {
			rec, err := decode[storagepb.SeedRecord](v)
			if err != nil {
				return err
			}
			out = storage.Sealed{Value: rec.GetSealedSecret(), AAD: bytes.Clone(k)}
			return nil
		}
		c := tx.Bucket(bucketTokens).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			rec, err := decodeToken(v)
			if err != nil {
				return err
			}
			if len(rec.GetSealedSecret()) > 0 {
				out = storage.Sealed{Value: rec.GetSealedSecret(), AAD: []byte(rec.GetToken().GetTokenId())}
				return nil
			}
		}
		return fmt.Errorf("sealed secret: %w", storage.ErrNotFound)
	})
	return out, err
}

// keyCheckPrefix starts the meta key of the key check value of every ring
// key but key 0, whose value keeps the original key "key_check":
// "key_check/" and the key id in decimal.
const keyCheckPrefix = "key_check/"

func keyCheckKey(id uint32) []byte {
	if id == 0 {
		return keyKeyCheck
	}
	return strconv.AppendUint([]byte(keyCheckPrefix), uint64(id), 10)
}

// KeyChecks returns the key check value of every master key id that has
// one; an empty map for a store that has none yet.
func (s *Store) KeyChecks(ctx context.Context) (map[uint32][]byte, error) {
	out := map[uint32][]byte{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyKeyCheck); v != nil {
			out[0] = bytes.Clone(v)
		}
		c := meta.Cursor()
		for k, v := c.Seek([]byte(keyCheckPrefix)); k != nil && bytes.HasPrefix(k, []byte(keyCheckPrefix)); k, v = c.Next() {
			id, err := strconv.ParseUint(string(k[len(keyCheckPrefix):]), 10, 32)
			if err != nil || id == 0 {
				return fmt.Errorf("meta key %q is not a key check of a key id", k)
			}
			out[uint32(id)] = bytes.Clone(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetKeyChecks stores the key check values of the given key ids in one
// commit, replacing any they had.
func (s *Store) SetKeyChecks(ctx context.Context, checks map[uint32][]byte) error {
	cp := make(map[uint32][]byte, len(checks))
	for id, v := range checks {
		if len(v) == 0 {
			return fmt.Errorf("empty key check for key %d: %w", id, storage.ErrInvalid)
		}
		cp[id] = bytes.Clone(v)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		for id, v := range cp {
			if err := meta.Put(keyCheckKey(id), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteKeyCheck removes the key check value of key id, once no secret is
// sealed under that key any more.
func (s *Store) DeleteKeyCheck(ctx context.Context, id uint32) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Delete(keyCheckKey(id))
	})
}
