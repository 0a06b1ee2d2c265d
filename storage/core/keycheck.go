package core

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"tokenauthority/storage"
)

// A key check value is a constant sealed under a master key when the store
// first met it, so a start with a wrong key is refused before it fails on
// a real secret. Key 0's is meta/key_check (schema 2), key n's
// meta/key_check/<n in decimal>.
var (
	keyKeyCheck   = meta.key("key_check")
	keyCheckOfIDs = meta.key("key_check/")
)

func keyCheckKey(id uint32) []byte {
	if id == 0 {
		return keyKeyCheck
	}
	return strconv.AppendUint(bytes.Clone(keyCheckOfIDs), uint64(id), 10)
}

// KeyChecks returns the key check value of every master key id that has
// one (an empty map for none).
func (s *Store) KeyChecks(ctx context.Context) (map[uint32][]byte, error) {
	return viewed(ctx, s, func(r reader) (map[uint32][]byte, error) {
		out := map[uint32][]byte{}
		v, err := r.get(keyKeyCheck)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out[0] = bytes.Clone(v)
		}
		return out, r.each(keyCheckOfIDs, "", 0, func(k, v []byte) error {
			id, err := strconv.ParseUint(string(k), 10, 32)
			if err != nil || id == 0 {
				return fmt.Errorf("meta key %q is not a key check of a key id", "key_check/"+string(k))
			}
			out[uint32(id)] = bytes.Clone(v)
			return nil
		})
	})
}

// SetKeyChecks stores the given key check values in one commit, or none if
// one has a value already (ErrAlreadyExists): two processes meeting a new
// key at once must not both win, each with its own value.
func (s *Store) SetKeyChecks(ctx context.Context, checks map[uint32][]byte) error {
	cp := make(map[uint32][]byte, len(checks))
	for id, v := range checks {
		if len(v) == 0 {
			return fmt.Errorf("empty key check for key %d: %w", id, storage.ErrInvalid)
		}
		cp[id] = bytes.Clone(v)
	}
	ids := slices.Sorted(maps.Keys(cp))
	return s.update(ctx, func(w writer) error {
		for _, id := range ids {
			err := w.expect(keyCheckKey(id), false, fmt.Errorf("key check for key %d: %w", id, storage.ErrAlreadyExists))
			if err != nil {
				return reject(err)
			}
		}
		for _, id := range ids {
			if err := w.put(keyCheckKey(id), cp[id]); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteKeyCheck removes the key check value of key id, once no secret is
// sealed under that key any more.
func (s *Store) DeleteKeyCheck(ctx context.Context, id uint32) error {
	return s.update(ctx, func(w writer) error { return w.del(keyCheckKey(id)) })
}

// SealedSample returns one sealed secret of the store, to tell whether a
// master key opens it; ErrNotFound if it holds none. It may walk every
// token of a store that keeps hashes only: call it at start, not per request.
func (s *Store) SealedSample(ctx context.Context) (storage.Sealed, error) {
	var out storage.Sealed
	err := s.ForEachSealed(ctx, func(sealed, aad []byte) error {
		out = storage.Sealed{Value: sealed, AAD: aad}
		return errStop
	})
	switch {
	case err == errStop:
		return out, nil
	case err == nil:
		return out, fmt.Errorf("sealed secret: %w", storage.ErrNotFound)
	}
	return out, err
}
