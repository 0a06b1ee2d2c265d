package core

import (
	"context"
	"errors"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// write is one queued write: a closure over a write transaction and the
// channel its caller waits on.
type write struct {
	fn func(w writer) error
	// keys fn will read, fetched for the whole batch at once on an engine
	// whose reads are round trips (storage.Prefetcher).
	keys [][]byte
	done chan result
	res  error // fn's rejection, if any, kept until the batch commits
}

type result struct {
	err error
	rev int64
}

// rejection marks a closure's error as a decision taken before it wrote
// anything (a failed existence check): its batch carries on without it in
// the same transaction. One after a write, or wrapping an engine's error,
// fails the batch's attempt like any error.
type rejection struct{ err error }

func (r rejection) Error() string { return r.err.Error() }
func (r rejection) Unwrap() error { return r.err }

func reject(err error) error { return rejection{err: err} }

// failed carries the error of the batch's closure i out of the engine's
// Update, wrapped so the engine still sees its own errors (a lost race on
// etcd reruns the whole batch).
type failed struct {
	i   int
	err error
}

func (f *failed) Error() string { return f.err.Error() }
func (f *failed) Unwrap() error { return f.err }

// counted is a Tx that counts its writes, to tell a rejection from a
// failure after writing.
type counted struct {
	storage.Tx
	writes int
}

func (c *counted) Put(k, v []byte) error { c.writes++; return c.Tx.Put(k, v) }
func (c *counted) Delete(k []byte) error { c.writes++; return c.Tx.Delete(k) }

// update runs fn in the group commit and returns once the commit carrying
// it is durable and this Store's validation index shows it (or fn failed).
// fn may run more than once, each time in a fresh transaction: compute
// times, ids and randomness before calling update, and assign (never
// append to) what it reports through captured variables. A ctx already
// done returns ctx.Err() without enqueueing; once enqueued the write is
// completed and answered regardless of ctx, so an acknowledged
// cancellation never hides a committed write.
//
// The audit event ctx carries, if not yet recorded (audit.NewContext), is
// appended to its chain in the same transaction after fn succeeds: the
// change and its event are durable together or not at all, and a
// rejection records nothing. This is the only place events are written.
func (s *Store) update(ctx context.Context, fn func(w writer) error) (err error) {
	return s.updateReading(ctx, nil, fn)
}

// updated is update for a closure with a result: the result of its run
// that committed, or the zero value with update's error.
func updated[T any](ctx context.Context, s *Store, fn func(w writer) (T, error)) (T, error) {
	var out T
	err := s.update(ctx, func(w writer) (err error) {
		out, err = fn(w)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// updateReading is update for a closure that will read keys, fetched for
// its whole batch in one on an engine whose reads are round trips (the
// hot writes: creates and rolls).
func (s *Store) updateReading(ctx context.Context, keys [][]byte, fn func(w writer) error) (err error) {
	if err := s.check(ctx); err != nil {
		return err
	}
	pending := audit.FromContext(ctx)
	if pending.Unrecorded() {
		// The head of the event's chain is read by every audited write.
		keys = append(keys, auditHeads.raw([]byte(pending.WorkspaceID())))
		change := fn
		var ev *pb.AuditEvent
		fn = func(w writer) error {
			if err := change(w); err != nil {
				return err
			}
			// Drafted after the change, which may add to the event what
			// only the transaction knows (audit.Pending.SetRevoked).
			ev = pending.Draft()
			if ev == nil {
				return nil // a write that needs no event after all
			}
			// An event naming very many revoked tokens continues in
			// events right after it, in the same transaction.
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
	// Durable now; validation here sees it before the caller hears of it
	// (within MaxStaleness on a shared engine, whose feed may lag).
	_ = s.feed.wait(context.WithoutCancel(ctx), res.rev, s.opts.MaxStaleness)
	return nil
}

// commitLoop is the single committer: it takes the first queued write and
// whatever else is queued right now, without waiting, and commits them
// together. A lone writer commits at once; concurrent writers share.
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

// commit runs the batch's closures in one engine transaction and answers
// their callers. A closure that fails after writing is answered with its
// error and the others run again in a fresh transaction. When the
// transaction outgrows the engine's limits at closure i > 0, those before
// i commit and the rest are returned for the next batch.
func (s *Store) commit(batch []*write) (rest []*write) {
	pending := batch
	for len(pending) > 0 {
		// Bounded, but by no caller's context: one caller giving up must
		// not fail the others' writes.
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
				var engErr engineError
				if errors.As(err, &r) && c.writes == 0 && !errors.As(err, &engErr) && !errors.Is(err, storage.ErrTooLarge) {
					w.res = r.err
					continue
				}
				return &failed{i: i, err: err}
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
			pending[f.i].done <- result{err: unwrapRejection(f.err)}
			next := make([]*write, 0, len(pending)-1)
			pending = append(append(next, pending[:f.i]...), pending[f.i+1:]...)
			continue
		}
		if err != nil {
			// The commit itself failed (disk full, no quorum): nothing in
			// this transaction is known durable.
			for _, w := range pending {
				w.done <- result{err: err}
			}
			return rest
		}
		if s.opts.OnCommit != nil {
			s.opts.OnCommit(len(pending))
		}
		for _, w := range pending {
			w.done <- result{err: w.res, rev: rev}
		}
		return rest
	}
	return rest
}

// unwrapRejection returns the decision inside a rejection that came too
// late to be one: the caller gets the same error either way.
func unwrapRejection(err error) error {
	var r rejection
	if errors.As(err, &r) {
		return r.err
	}
	return err
}
