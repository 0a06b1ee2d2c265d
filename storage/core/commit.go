package core

import (
	"context"
	"errors"
	"slices"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// write is one queued closure and the channel its caller waits on.
type write struct {
	fn   func(w writer) error
	keys [][]byte // what fn will read, prefetched for the batch (storage.Prefetcher)
	done chan result
	res  error // fn's rejection, if any, kept until the batch commits
}

type result struct {
	err error
	rev int64
}

// rejection marks a closure's error as a decision taken before it wrote
// (a failed existence check): the batch carries on without it. One after a
// write, or wrapping an engine's error, fails the attempt like any error.
type rejection struct{ err error }

func (r rejection) Error() string { return r.err.Error() }
func (r rejection) Unwrap() error { return r.err }

func reject(err error) error { return rejection{err: err} }

// failed carries closure i's error out of the engine's Update, wrapped so
// the engine still sees its own errors (a lost race on etcd reruns it all).
type failed struct {
	i   int
	err error
}

func (f *failed) Error() string { return f.err.Error() }
func (f *failed) Unwrap() error { return f.err }

// counted counts a Tx's writes, to tell a rejection from a failure.
type counted struct {
	storage.Tx
	writes int
}

func (c *counted) Put(k, v []byte) error { c.writes++; return c.Tx.Put(k, v) }
func (c *counted) Delete(k []byte) error { c.writes++; return c.Tx.Delete(k) }

// update runs fn in the group commit and returns once that commit is
// durable and this Store's index shows it (or fn failed). fn may run more
// than once, each time in a fresh transaction: compute times, ids and
// randomness before, and assign (never append to) what it reports. Once
// enqueued, the write completes whatever ctx does, so a cancellation never
// hides a committed write.
//
// ctx's unrecorded audit event (audit.NewContext) is appended to its chain
// in the same transaction after fn succeeds, so the change and its event
// are durable together; a rejection records nothing. This is the only
// place events are written.
func (s *Store) update(ctx context.Context, fn func(w writer) error) (err error) {
	return s.updateReading(ctx, nil, fn)
}

// updated is update for fn with a result: that of the run that committed,
// or zero with the error.
func updated[T any](ctx context.Context, s *Store, fn func(w writer) (T, error)) (T, error) {
	return returning(func(f func(writer) error) error { return s.update(ctx, f) }, fn)
}

// updateReading is update for fn that will read keys, prefetched for its
// batch where reads are round trips (the hot writes: creates and rolls).
func (s *Store) updateReading(ctx context.Context, keys [][]byte, fn func(w writer) error) (err error) {
	if err := s.check(ctx); err != nil {
		return err
	}
	pending := audit.FromContext(ctx)
	if pending.Unrecorded() {
		keys = append(keys, auditHeads.raw([]byte(pending.WorkspaceID())))
		change := fn
		var ev *pb.AuditEvent
		fn = func(w writer) error {
			if err := change(w); err != nil {
				return err
			}
			// Drafted after the change, which may add to the event what only
			// the transaction knows (audit.Pending.SetRevoked).
			ev = pending.Draft()
			if ev == nil {
				return nil // a write that needs no event after all
			}
			// An event naming very many revoked tokens continues in the
			// events after it.
			for _, e := range append([]*pb.AuditEvent{ev}, storage.SplitRevoked(ev, s.opts.IDsPerEvent)...) {
				if err := appendAudit(w, e, &s.auditClock); err != nil {
					return err
				}
			}
			return nil
		}
		defer func() {
			if err == nil && ev != nil {
				pending.Done(ev)
			}
		}()
	}
	wr := &write{fn: fn, keys: keys, done: make(chan result, 1)}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return storage.ErrClosed
	}
	s.writes <- wr
	s.mu.RUnlock()
	res := <-wr.done
	if res.err != nil || res.rev == 0 {
		return res.err
	}
	// Durable; validation here sees it before the caller hears of it
	// (within MaxStaleness on a shared engine, whose feed may lag).
	_ = s.feed.wait(context.WithoutCancel(ctx), res.rev, s.opts.MaxStaleness)
	return nil
}

// commitLoop is the single committer: it commits the first queued write
// with whatever else is queued at that moment, never waiting for more.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*write, 0, s.opts.MaxBatch)
	var carry []*write
	for {
		batch = append(batch[:0], carry...)
		carry = nil
		if len(batch) == 0 {
			w, ok := <-s.writes
			if !ok {
				return
			}
			batch = append(batch, w)
		}
	drain:
		for len(batch) < s.opts.MaxBatch {
			select {
			case w, ok := <-s.writes:
				if !ok {
					break drain
				}
				batch = append(batch, w)
			default:
				break drain
			}
		}
		carry = s.commit(batch)
		clear(batch)
	}
}

// commit runs the batch's closures in one transaction and answers their
// callers. One that fails after writing is answered and the others rerun.
// When closure i > 0 outgrows the engine's limits, those before it commit
// and the rest are returned for the next batch.
func (s *Store) commit(batch []*write) (rest []*write) {
	pending := batch
	for len(pending) > 0 {
		// No caller's context: one giving up must not fail the others.
		ctx, cancel := s.bounded(context.Background())
		rev, err := s.e.Update(ctx, func(tx storage.Tx) error {
			if p, ok := tx.(storage.Prefetcher); ok {
				var keys [][]byte
				for _, w := range pending {
					keys = append(keys, w.keys...)
				}
				if err := p.Prefetch(keys); err != nil {
					return err
				}
			}
			for i, w := range pending {
				w.res = nil
				c := &counted{Tx: tx}
				err := w.fn(writer{reader{c}, c})
				if err == nil {
					continue
				}
				var r rejection
				if !errors.As(err, &r) {
					return &failed{i: i, err: err}
				}
				var engErr engineError
				if c.writes > 0 || errors.As(err, &engErr) || errors.Is(err, storage.ErrTooLarge) {
					// Too late to be a rejection: its caller gets the same error.
					return &failed{i: i, err: r.err}
				}
				w.res = r.err
			}
			return nil
		})
		cancel()
		var f *failed
		if errors.As(err, &f) {
			if f.i > 0 && errors.Is(f.err, storage.ErrTooLarge) {
				// The batch outgrew one transaction: commit what fit.
				rest = append(rest, pending[f.i:]...)
				pending = pending[:f.i]
				continue
			}
			pending[f.i].done <- result{err: f.err}
			pending = slices.Delete(pending, f.i, f.i+1)
			continue
		}
		if err == nil && s.opts.OnCommit != nil {
			s.opts.OnCommit(len(pending))
		}
		for _, w := range pending {
			// A failed commit (disk full, no quorum): nothing here is durable.
			res := result{err: err}
			if err == nil {
				res = result{err: w.res, rev: rev}
			}
			w.done <- res
		}
		return rest
	}
	return rest
}
