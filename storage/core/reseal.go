package core

import (
	"bytes"
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
)

// ResealOptions tune Reseal. The zero value is ready to use.
type ResealOptions struct {
	// Batch caps the records of one read and one commit; 0 means 500. It
	// is lowered to half the engine's limits (a record is a read and a write).
	Batch int
	// AfterCommit, when set, gets the running totals after each commit.
	AfterCommit func(ResealProgress)
}

// ResealProgress counts what Reseal has done so far.
type ResealProgress struct {
	Sealed   int // sealed secrets visited
	Resealed int // replaced, and committed
	Changed  int // left alone: their record changed between read and commit
	Commits  int // commits that wrote replaced values
}

// Reseal passes every sealed secret of the store to reseal, with the
// additional data it was sealed with (a token's id, a parked seed's hash),
// and stores what reseal returns in its place; a nil result leaves it, an
// error stops Reseal.
//
// Each batch is read in one transaction, resealed outside any, and written
// in one commit that replaces a record only if it is byte for byte the one
// read, so a concurrent write is never lost (it counts in Changed). An
// interrupted Reseal (even by kill -9) leaves every secret sealed under one
// key or the other, and running it again finishes the job.
func (s *Store) Reseal(ctx context.Context, opts ResealOptions, reseal func(sealed, aad []byte) ([]byte, error)) (ResealProgress, error) {
	batch := opts.Batch
	if batch <= 0 {
		batch = 500
	}
	var p ResealProgress
	err := s.eachSealedPage(ctx, min(batch, s.perTxn(1, 1)), func(kind sealedKind, items []sealedItem) error {
		type change struct{ key, old, new []byte }
		var changes []change
		for _, it := range items {
			p.Sealed++
			sealed, err := reseal(*it.sealed, it.aad)
			if err != nil {
				return fmt.Errorf("reseal %s %q: %w", kind.name, kind.id(it.key), err)
			}
			if sealed == nil {
				continue
			}
			*it.sealed = sealed
			v, err := encode(it.msg)
			if err != nil {
				return err
			}
			changes = append(changes, change{key: append(bytes.Clone(kind.prefix), it.key...), old: it.raw, new: v})
		}
		if len(changes) == 0 {
			return nil
		}
		done, err := commitEach(ctx, s, changes, len(changes), func(w writer, c change) (bool, error) {
			v, err := w.get(c.key)
			if err != nil || !bytes.Equal(v, c.old) {
				return false, err
			}
			return true, w.put(c.key, c.new)
		})
		if err != nil {
			return err
		}
		p.Resealed += done
		p.Changed += len(changes) - done
		p.Commits++
		if opts.AfterCommit != nil {
			opts.AfterCommit(p)
		}
		return nil
	})
	return p, err
}

// ForEachSealed calls fn with every sealed secret and its additional data,
// as Reseal would, parked seeds first, reading 1000 records at a time. The
// slices are fn's to keep; an error from fn stops the walk and is returned.
func (s *Store) ForEachSealed(ctx context.Context, fn func(sealed, aad []byte) error) error {
	return s.eachSealedPage(ctx, 1000, func(_ sealedKind, items []sealedItem) error {
		for _, it := range items {
			if err := fn(*it.sealed, it.aad); err != nil {
				return err
			}
		}
		return nil
	})
}

// sealedItem is one record holding a sealed secret, copied out of a read.
type sealedItem struct {
	key, raw []byte        // key without its kind, and value
	msg      proto.Message // the decoded record
	sealed   *[]byte       // its sealed secret's field
	aad      []byte
}

// sealedKind is a kind of record that holds sealed secrets.
type sealedKind struct {
	name   string
	prefix []byte
	// id names a record in errors (never by a seed hash); read decodes one.
	id   func(key []byte) string
	read func(key, v []byte) (sealedItem, error)
}

// sealedKinds are the records that hold sealed secrets: every place that
// seals one must be listed, or rotation would leave it behind. Seeds come
// first: a store that keeps hashes only may have no sealed token at all.
var sealedKinds = []sealedKind{
	{
		name:   "seed",
		prefix: seeds.all(),
		id:     func([]byte) string { return "(parked)" },
		read: func(k, v []byte) (sealedItem, error) {
			rec, err := decode[storagepb.SeedRecord](v)
			if err != nil {
				return sealedItem{}, err
			}
			return sealedItem{msg: rec, sealed: &rec.SealedSecret, aad: bytes.Clone(k)}, nil
		},
	},
	{
		name:   "token",
		prefix: tokens.all(),
		id:     func(k []byte) string { return string(k) },
		read: func(k, v []byte) (sealedItem, error) {
			rec, err := decodeToken(v)
			if err != nil {
				return sealedItem{}, err
			}
			aad := []byte(rec.GetToken().GetTokenId())
			return sealedItem{msg: rec, sealed: &rec.SealedSecret, aad: aad}, nil
		},
	},
}

// eachSealedPage calls fn with the records holding sealed secrets, kind by
// kind, read in transactions of at most limit records.
func (s *Store) eachSealedPage(ctx context.Context, limit int, fn func(kind sealedKind, items []sealedItem) error) error {
	for _, kind := range sealedKinds {
		err := s.eachPage(ctx, kind.prefix, limit, func(page []kv) error {
			var items []sealedItem
			for _, p := range page {
				it, err := kind.read(p.k, p.v)
				if err != nil {
					return fmt.Errorf("%s %q: %w", kind.name, kind.id(p.k), err)
				}
				if len(*it.sealed) > 0 {
					it.key, it.raw = p.k, p.v
					items = append(items, it)
				}
			}
			return fn(kind, items)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
