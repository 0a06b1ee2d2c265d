package core

import (
	"bytes"
	"context"
	"fmt"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
)

// defaultResealBatch is how many records one reseal commit rewrites when
// ResealOptions.Batch is 0.
const defaultResealBatch = 500

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
	// Sealed is how many sealed secrets were visited.
	Sealed int
	// Resealed is how many were replaced, and are committed.
	Resealed int
	// Changed is how many were left alone because their record changed
	// between the read and the commit (only when the store is in use).
	Changed int
	// Commits is how many commits wrote replaced values.
	Commits int
}

// Reseal passes every sealed secret of the store to reseal, with the
// additional data it was sealed with (a token's sealed_secret with the
// token id, a parked seed's with the seed hash), and stores what reseal
// returns in its place; a nil result leaves the value as it is, and an
// error stops Reseal with that error.
//
// Records are visited in batches of at most opts.Batch: one read
// transaction reads a batch, reseal runs outside any transaction, and one
// commit writes the batch's replacements. A record is replaced only if it
// is byte for byte the one that was read, so a concurrent write is never
// lost (it is counted in Changed instead). Every record is at every moment
// either wholly old or wholly new, so an interrupted Reseal (even by
// kill -9) leaves every secret sealed under one key or the other, and
// running it again finishes the job.
func (s *Store) Reseal(ctx context.Context, opts ResealOptions, reseal func(sealed, aad []byte) ([]byte, error)) (ResealProgress, error) {
	batch := opts.Batch
	if batch <= 0 {
		batch = defaultResealBatch
	}
	batch = min(batch, s.perTxn(1, 1))
	var p ResealProgress
	for _, kind := range sealedKinds {
		for after := ""; ; {
			items, next, err := s.readSealed(ctx, kind, after, batch)
			if err != nil {
				return p, err
			}
			type change struct{ key, old, new []byte }
			var changes []change
			for _, it := range items {
				p.Sealed++
				sealed, err := reseal(it.sealed, it.aad)
				if err != nil {
					return p, fmt.Errorf("reseal %s %q: %w", kind.name, kind.id(it.key), err)
				}
				if sealed == nil {
					continue
				}
				v, err := it.rewrite(sealed)
				if err != nil {
					return p, err
				}
				changes = append(changes, change{key: append(bytes.Clone(kind.prefix), it.key...), old: it.raw, new: v})
			}
			if len(changes) > 0 {
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
					return p, err
				}
				p.Resealed += done
				p.Changed += changed
				p.Commits++
				if opts.AfterCommit != nil {
					opts.AfterCommit(p)
				}
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	return p, nil
}

// sealedPage is how many records one read transaction of ForEachSealed
// visits.
const sealedPage = 1000

// ForEachSealed calls fn with every sealed secret of the store and the
// additional data it was sealed with, as Reseal would, in read
// transactions of at most sealedPage records, parked seeds first. The slices are fn's to keep. An
// error from fn stops the walk and is returned.
func (s *Store) ForEachSealed(ctx context.Context, fn func(sealed, aad []byte) error) error {
	for _, kind := range sealedKinds {
		for after := ""; ; {
			items, next, err := s.readSealed(ctx, kind, after, sealedPage)
			if err != nil {
				return err
			}
			for _, it := range items {
				if err := fn(it.sealed, it.aad); err != nil {
					return err
				}
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	return nil
}

// sealedItem is one record holding a sealed secret, copied out of a read
// transaction.
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
			if err != nil || len(rec.GetSealedSecret()) == 0 {
				return sealedItem{}, false, err
			}
			return sealedItem{
				sealed: rec.GetSealedSecret(),
				aad:    bytes.Clone(k),
				rewrite: func(sealed []byte) ([]byte, error) {
					rec.SealedSecret = sealed
					return encode(rec)
				},
			}, true, nil
		},
	},
	{
		name:   "token",
		prefix: tokens.all(),
		id:     func(k []byte) string { return string(k) },
		read: func(k, v []byte) (sealedItem, bool, error) {
			rec, err := decodeToken(v)
			if err != nil || len(rec.GetSealedSecret()) == 0 {
				return sealedItem{}, false, err
			}
			return sealedItem{
				sealed: rec.GetSealedSecret(),
				aad:    []byte(rec.GetToken().GetTokenId()),
				rewrite: func(sealed []byte) ([]byte, error) {
					rec.SealedSecret = sealed
					return encode(rec)
				},
			}, true, nil
		},
	},
}

// readSealed reads up to limit records of kind after key after (from the
// first when "") and returns those holding a sealed secret, and the key to
// continue after ("" at the end).
func (s *Store) readSealed(ctx context.Context, kind sealedKind, after string, limit int) ([]sealedItem, string, error) {
	var items []sealedItem
	var next string
	err := s.view(ctx, func(r reader) error {
		items, next = nil, ""
		n := 0
		last := ""
		err := r.each(kind.prefix, after, limit, func(k, v []byte) error {
			n++
			last = string(k)
			it, ok, err := kind.read(k, v)
			if err != nil {
				return fmt.Errorf("%s %q: %w", kind.name, kind.id(k), err)
			}
			if ok {
				it.key, it.raw = bytes.Clone(k), bytes.Clone(v)
				items = append(items, it)
			}
			return nil
		})
		if n == limit {
			next = last
		}
		return err
	})
	return items, next, err
}
