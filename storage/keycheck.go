package storage

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
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
			return fmt.Errorf("key check: %w", ErrNotFound)
		}
		out = bytes.Clone(v)
		return nil
	})
	return out, err
}

// SetKeyCheck stores the key check value, replacing any.
func (s *Store) SetKeyCheck(ctx context.Context, v []byte) error {
	if len(v) == 0 {
		return fmt.Errorf("empty key check: %w", ErrInvalid)
	}
	v = bytes.Clone(v)
	return s.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyKeyCheck, v)
	})
}

// Sealed is one secret sealed under the master key and the additional data
// it was sealed with.
type Sealed struct {
	Value []byte
	AAD   []byte
}

// SealedSample returns one sealed secret of the store (a parked seed's, or a
// revealable token's), to tell whether a master key opens the store's
// secrets; ErrNotFound if the store holds none. It may walk every token
// record of a store that keeps hashes only, so call it at start, not per
// request.
func (s *Store) SealedSample(ctx context.Context) (Sealed, error) {
	var out Sealed
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if k, v := tx.Bucket(bucketSeeds).Cursor().First(); k != nil {
			rec, err := decode[storagepb.SeedRecord](v)
			if err != nil {
				return err
			}
			out = Sealed{Value: rec.GetSealedSecret(), AAD: bytes.Clone(k)}
			return nil
		}
		c := tx.Bucket(bucketTokens).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			rec, err := decodeToken(v)
			if err != nil {
				return err
			}
			if len(rec.GetSealedSecret()) > 0 {
				out = Sealed{Value: rec.GetSealedSecret(), AAD: []byte(rec.GetToken().GetTokenId())}
				return nil
			}
		}
		return fmt.Errorf("sealed secret: %w", ErrNotFound)
	})
	return out, err
}
