package bbolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// RecordAudit records the audit event carried by ctx (audit.NewContext) in a
// commit of its own, for an action that changes nothing else, such as
// revealing a secret. ErrInvalid when ctx carries no event or its event was
// already recorded.
func (s *Store) RecordAudit(ctx context.Context) error {
	if audit.FromContext(ctx).Draft() == nil {
		return fmt.Errorf("no audit event to record: %w", storage.ErrInvalid)
	}
	return s.update(ctx, func(*bolt.Tx) error { return nil })
}

// appendAudit seals ev onto the end of the log and stores it. It assigns ev's
// sequence and hashes, so it may run again in a fresh transaction.
func appendAudit(tx *bolt.Tx, ev *pb.AuditEvent) error {
	meta := tx.Bucket(bucketMeta)
	seq, hash, err := auditHead(meta)
	if err != nil {
		return err
	}
	if seq == 0 {
		hash = audit.Genesis
	}
	audit.Seal(ev, seq, hash)
	val, err := encode(ev)
	if err != nil {
		return err
	}
	key := binary.BigEndian.AppendUint64(nil, ev.GetSequence())
	if err := tx.Bucket(bucketAudit).Put(key, val); err != nil {
		return err
	}
	head := append(binary.BigEndian.AppendUint64(nil, ev.GetSequence()), ev.GetHash()...)
	return meta.Put(keyAuditHead, head)
}

// auditHead reads the newest event's sequence and hash; 0 and nil when the
// log is empty.
func auditHead(meta *bolt.Bucket) (uint64, []byte, error) {
	v := meta.Get(keyAuditHead)
	if v == nil {
		return 0, nil, nil
	}
	if len(v) != 8+audit.HashSize {
		return 0, nil, fmt.Errorf("audit head has %d bytes, want %d", len(v), 8+audit.HashSize)
	}
	return binary.BigEndian.Uint64(v), append([]byte(nil), v[8:]...), nil
}

// ListAuditEvents returns events with sequence greater than after that pass
// f, in sequence order, at most limit of them. It reads at most maxScan
// events (all when maxScan <= 0); resume is the sequence of the last event
// read when it stopped early for that reason, so a caller can continue after
// it, and 0 otherwise.
func (s *Store) ListAuditEvents(ctx context.Context, f audit.Filter, after uint64, limit, maxScan int) (events []*pb.AuditEvent, resume uint64, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		events, resume = nil, 0
		c := tx.Bucket(bucketAudit).Cursor()
		scanned := 0
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, after+1)); k != nil; k, v = c.Next() {
			if limit > 0 && len(events) >= limit {
				return nil
			}
			if maxScan > 0 && scanned >= maxScan {
				resume = binary.BigEndian.Uint64(k) - 1
				return nil
			}
			scanned++
			ev, err := decode[pb.AuditEvent](v)
			if err != nil {
				return err
			}
			if f.Match(ev) {
				events = append(events, ev)
			}
		}
		return nil
	})
	return events, resume, err
}

// VerifyAudit checks the audit log's hash chain in one read transaction:
// from its first event, or from the checkpoint of the last retention sweep.
func (s *Store) VerifyAudit(ctx context.Context) (audit.Result, error) {
	var res audit.Result
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var v audit.Verifier
		if cpSeq, cpHash, err := audit.DecodeCheckpoint(tx.Bucket(bucketMeta).Get(keyAuditCheckpoint)); err != nil {
			v.StartBroken()
		} else if cpSeq > 0 {
			v.Start(cpSeq, cpHash)
		}
		err := tx.Bucket(bucketAudit).ForEach(func(k, val []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			ev, err := decode[pb.AuditEvent](val)
			if err != nil || len(k) != 8 {
				v.AddUnreadable()
				return nil
			}
			v.Add(ev)
			return nil
		})
		if err != nil {
			return err
		}
		seq, hash, err := auditHead(tx.Bucket(bucketMeta))
		if err != nil {
			// A mangled head is a broken chain, not a failed read.
			seq, hash = ^uint64(0), nil
		}
		res = v.End(seq, hash)
		return nil
	})
	return res, err
}

// DefaultAuditSweepBatch caps how many events one commit of SweepAudit
// removes.
const DefaultAuditSweepBatch = 1000

// SweepAudit removes the audit events older than cutoff, oldest first, in
// commits of at most batch events (0 means DefaultAuditSweepBatch), each
// recording the sequence and hash of the newest event it removed as the
// checkpoint VerifyAudit starts from. Each removed event is checked against
// the chain first; a broken chain stops the sweep (audit.ErrBroken) and is
// left for VerifyAudit to report. It returns how many events it removed;
// on error, the commits before it stand.
func (s *Store) SweepAudit(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = DefaultAuditSweepBatch
	}
	ctx = audit.Without(ctx)
	total := 0
	for {
		n := 0
		err := s.update(ctx, func(tx *bolt.Tx) error {
			n = 0
			meta := tx.Bucket(bucketMeta)
			cpSeq, cpHash, err := audit.DecodeCheckpoint(meta.Get(keyAuditCheckpoint))
			if err != nil {
				return fmt.Errorf("%w: %w", audit.ErrBroken, err)
			}
			sweep := audit.NewSweep(cpSeq, cpHash, cutoff, batch)
			var keys [][]byte
			c := tx.Bucket(bucketAudit).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				ev, err := decode[pb.AuditEvent](v)
				if err != nil {
					return fmt.Errorf("%w: event %x cannot be read", audit.ErrBroken, k)
				}
				take, err := sweep.Take(ev)
				if err != nil {
					return err
				}
				if !take {
					break
				}
				keys = append(keys, k)
			}
			if len(keys) == 0 {
				return nil
			}
			b := tx.Bucket(bucketAudit)
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n = len(keys)
			return meta.Put(keyAuditCheckpoint, sweep.Checkpoint())
		})
		total += n
		if err != nil || n < batch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
