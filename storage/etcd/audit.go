package etcd

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// RecordAudit records the audit event of ctx in a transaction of its own.
func (s *Store) RecordAudit(ctx context.Context) error {
	if audit.FromContext(ctx).Draft() == nil {
		return fmt.Errorf("no audit event to record: %w", storage.ErrInvalid)
	}
	_, err := s.update(ctx, "record audit event", func(*txn) error { return nil })
	return err
}

// appendAudit seals ev after the chain head read in x and stages it with
// the new head.
func (s *Store) appendAudit(x *txn, ev *pb.AuditEvent) error {
	kv, err := x.get(s.k.auditHead())
	if err != nil {
		return err
	}
	var seq uint64
	hash := audit.Genesis
	if kv != nil {
		if len(kv.Value) != 8+audit.HashSize {
			return fmt.Errorf("audit head has %d bytes, want %d", len(kv.Value), 8+audit.HashSize)
		}
		seq, hash = binary.BigEndian.Uint64(kv.Value), kv.Value[8:]
	}
	audit.Seal(ev, seq, hash)
	if err := x.put(s.k.audit(ev.GetSequence()), ev); err != nil {
		return err
	}
	x.putRaw(s.k.auditHead(), string(append(binary.BigEndian.AppendUint64(nil, ev.GetSequence()), ev.GetHash()...)))
	return nil
}

// ListAuditEvents lists the events after sequence after that match f, at
// most limit, examining at most maxScan (0: no bound); resume is where a
// scan stopped by maxScan continues.
func (s *Store) ListAuditEvents(ctx context.Context, f audit.Filter, after uint64, limit, maxScan int) ([]*pb.AuditEvent, uint64, error) {
	if err := s.check(ctx); err != nil {
		return nil, 0, err
	}
	start, end := s.k.audit(after+1), prefixEnd(s.k.audits())
	var events []*pb.AuditEvent
	scanned := 0
	for {
		resp, err := s.rget(ctx, start, rangeOpts(end, 500)...)
		if err != nil {
			return nil, 0, unavailable(ctx, err)
		}
		for _, kv := range resp.Kvs {
			if limit > 0 && len(events) >= limit {
				return events, 0, nil
			}
			ev, err := decode[pb.AuditEvent](kv.Value)
			if err != nil {
				return nil, 0, err
			}
			if maxScan > 0 && scanned >= maxScan {
				return events, ev.GetSequence() - 1, nil
			}
			scanned++
			if f.Match(ev) {
				events = append(events, ev)
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return events, 0, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// VerifyAudit checks the hash chain of every stored event against the
// head, from the checkpoint of the last retention sweep if there was one,
// reading all of them at one revision.
func (s *Store) VerifyAudit(ctx context.Context) (audit.Result, error) {
	if err := s.check(ctx); err != nil {
		return audit.Result{}, err
	}
	head, err := s.rget(ctx, s.k.auditHead())
	if err != nil {
		return audit.Result{}, unavailable(ctx, err)
	}
	rev := head.Header.Revision
	var v audit.Verifier
	cp, err := s.rget(ctx, s.k.auditCheckpoint(), clientv3.WithRev(rev))
	if err != nil {
		return audit.Result{}, unavailable(ctx, err)
	}
	if len(cp.Kvs) > 0 {
		if cpSeq, cpHash, err := audit.DecodeCheckpoint(cp.Kvs[0].Value); err != nil {
			v.StartBroken()
		} else {
			v.Start(cpSeq, cpHash)
		}
	}
	start, end := s.k.audits(), prefixEnd(s.k.audits())
	for {
		resp, err := s.rget(ctx, start, clientv3.WithRange(end), clientv3.WithLimit(500), clientv3.WithRev(rev))
		if err != nil {
			return audit.Result{}, unavailable(ctx, err)
		}
		for _, kv := range resp.Kvs {
			ev, err := decode[pb.AuditEvent](kv.Value)
			if err != nil {
				v.AddUnreadable()
				continue
			}
			v.Add(ev)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	seq, hash := uint64(0), []byte(nil)
	if len(head.Kvs) > 0 {
		val := head.Kvs[0].Value
		if len(val) != 8+audit.HashSize {
			seq, hash = ^uint64(0), nil
		} else {
			seq, hash = binary.BigEndian.Uint64(val), val[8:]
		}
	}
	return v.End(seq, hash), nil
}

// auditSweepBatch caps the events one transaction of SweepAudit removes:
// each is a comparison and a deletion, beside the checkpoint's.
const auditSweepBatch = maxOps - 4

// SweepAudit removes the audit events older than cutoff, oldest first, in
// transactions of at most batch events (0 or more than one transaction
// holds: auditSweepBatch), each recording the sequence and hash of the
// newest event it removed as the checkpoint VerifyAudit starts from. Each
// removed event is checked against the chain first; a broken chain stops
// the sweep (audit.ErrBroken). It returns how many events it removed; on
// error, the transactions before it stand.
func (s *Store) SweepAudit(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if batch <= 0 || batch > auditSweepBatch {
		batch = auditSweepBatch
	}
	ctx = audit.Without(ctx)
	total := 0
	for {
		// The oldest events' keys, to bound the transaction's range, so
		// that events appended meanwhile do not conflict with it.
		first, err := s.rget(ctx, s.k.audits(), append(rangeOpts(prefixEnd(s.k.audits()), int64(batch)), clientv3.WithKeysOnly())...)
		if err != nil {
			return total, unavailable(ctx, err)
		}
		if len(first.Kvs) == 0 {
			return total, nil
		}
		end := string(first.Kvs[len(first.Kvs)-1].Key) + "\x00"
		n := 0
		_, err = s.update(ctx, "sweep audit events", func(x *txn) error {
			n = 0
			kv, err := x.get(s.k.auditCheckpoint())
			if err != nil {
				return err
			}
			var cpSeq uint64
			var cpHash []byte
			if kv != nil {
				if cpSeq, cpHash, err = audit.DecodeCheckpoint(kv.Value); err != nil {
					return fmt.Errorf("%w: %w", audit.ErrBroken, err)
				}
			}
			events, err := x.list(s.k.audits(), end, 0)
			if err != nil {
				return err
			}
			sweep := audit.NewSweep(cpSeq, cpHash, cutoff, batch)
			for _, kv := range events {
				ev, err := decode[pb.AuditEvent](kv.Value)
				if err != nil {
					return fmt.Errorf("%w: event %s cannot be read", audit.ErrBroken, kv.Key)
				}
				take, err := sweep.Take(ev)
				if err != nil {
					return err
				}
				if !take {
					break
				}
				x.del(string(kv.Key))
			}
			if n = sweep.Taken(); n > 0 {
				x.putRaw(s.k.auditCheckpoint(), string(sweep.Checkpoint()))
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}
