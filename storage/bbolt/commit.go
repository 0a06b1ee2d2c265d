package bbolt

import (
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/validindex"
)

// write is one queued write: a closure over a write transaction and the
// channel its caller waits on.
type write struct {
	fn   func(*bolt.Tx) error
	done chan error
	// result is fn's rejection, if any, kept until the batch commits.
	result error
}

// rejection marks a closure's error as a decision taken before it wrote
// anything (a failed existence check, say). The transaction then needs no
// rollback: the committer answers that caller and carries on with the rest
// of the batch in the same transaction.
type rejection struct{ err error }

func (r rejection) Error() string { return r.err.Error() }
func (r rejection) Unwrap() error { return r.err }

// reject wraps err as a rejection. Use it only before the closure's first
// write.
func reject(err error) error { return rejection{err: err} }

// update runs fn in the group commit and returns once the commit carrying it
// is on disk (or fn failed). fn may run more than once, each time in a fresh
// transaction, so it must be a pure function of the transaction: compute
// times, ids and randomness before calling update, and assign (never append
// to) any result it reports through captured variables.
//
// A ctx already done returns ctx.Err() without enqueueing; once enqueued the
// write is completed and answered regardless of ctx, so an acknowledged
// cancellation never hides a committed write.
//
// When ctx carries an audit event not yet recorded (audit.NewContext), it is
// appended to the audit log in the same transaction, after fn succeeds: the
// change and its event become durable together or not at all, and a
// rejection records nothing. This is the only place events are written, so
// no write method needs audit code of its own.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	pending := audit.FromContext(ctx)
	if pending.Unrecorded() {
		change := fn
		var ev *pb.AuditEvent
		fn = func(tx *bolt.Tx) error {
			if err := change(tx); err != nil {
				return err
			}
			// Drafted after the change, which may add to the event what
			// only the transaction knows (audit.Pending.SetRevoked).
			ev = pending.Draft()
			if ev == nil {
				return nil // a write that needs no event after all
			}
			per := s.idsPerEvent
			if per <= 0 {
				per = storage.RevokedPerEvent
			}
			// An event naming very many revoked tokens continues in
			// events right after it, in the same transaction, as on
			// every store.
			rest := storage.SplitRevoked(ev, per)
			if err := appendAudit(tx, ev); err != nil {
				return err
			}
			for _, c := range rest {
				if err := appendAudit(tx, c); err != nil {
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
	w := &write{fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return storage.ErrClosed
	}
	s.writes <- w
	s.mu.RUnlock()
	return <-w.done
}

// commitLoop is the single committer. It takes the first queued write,
// drains whatever else is queued right now without waiting, and commits them
// together: a lone writer commits at once, concurrent writers share commits.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*write, 0, s.maxBatch)
	for w := range s.writes {
		batch = append(batch[:0], w)
	drain:
		for len(batch) < s.maxBatch {
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
		s.commit(batch)
		clear(batch)
	}
}

// commit runs the batch's closures in one transaction and answers every
// caller. A closure that fails after writing rolls the transaction back; its
// caller gets its error and the others are re-run in a fresh transaction.
func (s *Store) commit(batch []*write) {
	pending := batch
	for len(pending) > 0 {
		failed := -1
		var failErr error
		var changes *validindex.Batch
		err := s.db.Update(func(tx *bolt.Tx) error {
			s.j = newJournal()
			defer func() { s.j = nil }()
			for i, w := range pending {
				w.result = nil
				err := w.fn(tx)
				if err == nil {
					continue
				}
				var r rejection
				if errors.As(err, &r) {
					w.result = r.err
					continue
				}
				failed, failErr = i, err
				return err
			}
			var err error
			changes, err = s.j.resolve(tx)
			return err
		})
		if failed >= 0 {
			pending[failed].done <- failErr
			// A fresh slice: shifting in place would reorder the caller's batch.
			rest := make([]*write, 0, len(pending)-1)
			pending = append(append(rest, pending[:failed]...), pending[failed+1:]...)
			continue
		}
		if err != nil {
			// The commit itself failed (disk full, fsync error): nothing in
			// this transaction is durable.
			for _, w := range pending {
				w.done <- err
			}
			return
		}
		// Durable now: validation sees it before any writer hears of it.
		s.index.Apply(changes)
		if s.onCommit != nil {
			s.onCommit(len(pending))
		}
		for _, w := range pending {
			w.done <- w.result
		}
		return
	}
}
