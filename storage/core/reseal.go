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
	// Batch is how many records one commit rewrites, and one read
	// transaction visits, at most; 0 means 500. It is lowered to what
	// half the engine's limits hold (a record is a read and a write).
	Batch int
	// AfterCommit, when set, is called after each batch is committed with
	// the running totals.
	AfterCommit func(ResealProgress)
}

// ResealProgress counts what Reseal has done so far.
type ResealProgress struct {
	Sealed   int // sealed secrets visited
	Resealed int // replaced, and committed
	// Changed were left alone because their record changed between the
	// read and the commit (only when the store is in use).
	Changed int
	Commits int // commits that wrote replaced values
}

// Reseal passes every sealed secret of the store to reseal, with the
// additional data it was sealed with (a token's id, a parked seed's hash),
// and stores what reseal returns in its place; a nil result leaves it as
// it is, an error stops Reseal.
//
// Each batch of at most opts.Batch records is read in one transaction,
// resealed outside any, and written in one commit that replaces a record
// only if it is byte for byte the one read, so a concurrent write is never
// lost (it counts in Changed). Every record is always wholly old or wholly
// new: an interrupted Reseal (even by kill -9) leaves every secret sealed
// under one key or the other, and running it again finishes the job.
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
			sealed, err := reseal(it.sealed, it.aad)
			if err != nil {
				return fmt.Errorf("reseal %s %q: %w", kind.name, kind.id(it.key), err)
			}
			if sealed == nil {
				continue
			}
			v, err := it.rewrite(sealed)
			if err != nil {
				return err
			}
			changes = append(changes, change{key: append(bytes.Clone(kind.prefix), it.key...), old: it.raw, new: v})
		}
		if len(changes) == 0 {
			return nil
		}
		var done, changed int
		err := s.update(ctx, func(w writer) error {
			done, changed = 0, 0
			for _, c := range changes {
				v, err := w.get(c.key)
				if err != nil {
					return err
				}
				if !bytes.Equal(v, c.old) {
					changed++
					continue
				}
				if err := w.put(c.key, c.new); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			return err
		}
		p.Resealed += done
		p.Changed += changed
		p.Commits++
		if opts.AfterCommit != nil {
			opts.AfterCommit(p)
		}
		return nil
	})
	return p, err
}

// ForEachSealed calls fn with every sealed secret of the store and the
// additional data it was sealed with, as Reseal would, parked seeds first,
// in read transactions of at most 1000 records. The slices are fn's to
// keep. An error from fn stops the walk and is returned.
func (s *Store) ForEachSealed(ctx context.Context, fn func(sealed, aad []byte) error) error {
	return s.eachSealedPage(ctx, 1000, func(_ sealedKind, items []sealedItem) error {
		for _, it := range items {
			if err := fn(it.sealed, it.aad); err != nil {
				return err
			}
		}
		return nil
	})
}

// sealedItem is one record holding a sealed secret, copied out of a read.
type sealedItem struct {
	key, raw    []byte // key without its kind
	sealed, aad []byte
	rewrite     func(sealed []byte) ([]byte, error)
}

// sealedKind is a kind of record that holds sealed secrets.
type sealedKind struct {
	name   string
	prefix []byte
	// id names a record in errors (a seed hash is not shown).
	id func(key []byte) string
	// read decodes a record; ok is false for one without a sealed secret.
	read func(key, v []byte) (it sealedItem, ok bool, err error)
}

// sealedKinds are the records that hold sealed secrets: every place that
// seals a secret must be listed here, or rotation would leave it behind.
// Seeds come first: SealedSample finds a parked seed at once, while a
// store that keeps hashes only may have no sealed token at all.
var sealedKinds = []sealedKind{
	{
		name:   "seed",
		prefix: seeds.all(),
		id:     func([]byte) string { return "(parked)" },
		read: func(k, v []byte) (sealedItem, bool, error) {
			rec, err := decode[storagepb.SeedRecord](v)
			if err != nil {
				return sealedItem{}, false, err
			}
			return sealedIn(rec, &rec.SealedSecret, bytes.Clone(k))
		},
	},
	{
		name:   "token",
		prefix: tokens.all(),
		id:     func(k []byte) string { return string(k) },
		read: func(k, v []byte) (sealedItem, bool, error) {
			rec, err := decodeToken(v)
			if err != nil {
				return sealedItem{}, false, err
			}
			return sealedIn(rec, &rec.SealedSecret, []byte(rec.GetToken().GetTokenId()))
		},
	},
}

// sealedIn is the item of record m whose sealed secret is *field, if any.
func sealedIn(m proto.Message, field *[]byte, aad []byte) (sealedItem, bool, error) {
	if len(*field) == 0 {
		return sealedItem{}, false, nil
	}
	return sealedItem{sealed: *field, aad: aad, rewrite: func(sealed []byte) ([]byte, error) {
		*field = sealed
		return encode(m)
	}}, true, nil
}

// eachSealedPage calls fn with the records holding sealed secrets, kind by
// kind, read in transactions of at most limit records.
func (s *Store) eachSealedPage(ctx context.Context, limit int, fn func(kind sealedKind, items []sealedItem) error) error {
	for _, kind := range sealedKinds {
		err := s.eachPage(ctx, kind.prefix, limit, func(page []kv) error {
			var items []sealedItem
			for _, p := range page {
				it, ok, err := kind.read(p.k, p.v)
				if err != nil {
					return fmt.Errorf("%s %q: %w", kind.name, kind.id(p.k), err)
				}
				if ok {
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
