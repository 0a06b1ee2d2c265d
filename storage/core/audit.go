package core

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// The audit log is one hash chain per workspace ("" for events of none), so
// audited writes to different workspaces never wait for one another. An
// event's key starts with T, its unix nanoseconds (8 bytes big-endian),
// made greater than its chain's previous event's: the log reads in time
// order and every chain in sequence order.
//
// How it can hurt you: replicas order events of different workspaces only
// as well as their clocks agree, and an event committed late may land
// before a tailing reader's cursor: such a reader re-reads its last seconds.

// LegacyChain is the one chain of the events of a store before the core
// (a schema-2 bbolt file, an etcd prefix of the first layout), migrated.
// No workspace id holds its byte (access.ValidID).
const LegacyChain = "\x01"

// AuditKey is the key of chain's event seq at T (a migration writes it too).
func AuditKey(t uint64, chain string, seq uint64) []byte {
	k := make([]byte, 0, len(audits)+8+len(chain)+1+8)
	k = append(k, audits...)
	k = binary.BigEndian.AppendUint64(k, t)
	k = append(k, chain...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// MigratedAuditTime is the T of a migrated legacy event's key (AuditKey
// with LegacyChain): own, its EventNanos, but after prev, the T of the
// chain's previous event unless first, so key order is sequence order
// whatever the clock did.
func MigratedAuditTime(own, prev uint64, first bool) (uint64, error) {
	if first {
		return own, nil
	}
	if prev == ^uint64(0) {
		return 0, fmt.Errorf("no key time left after %d", prev)
	}
	return max(own, prev+1), nil
}

// EventNanos is ev's time in unix nanoseconds, clamped to 1970 to 2262;
// 0 for ev nil (an event that cannot be read).
func EventNanos(ev *pb.AuditEvent) uint64 {
	const maxSec = (1<<63 - 1) / 1_000_000_000
	ts := ev.GetTime()
	sec, nsec := ts.GetSeconds(), int64(ts.GetNanos())
	switch {
	case sec < 0 || sec == 0 && nsec <= 0:
		return 0
	case sec > maxSec:
		return 1<<63 - 1
	}
	n := sec*1e9 + min(max(nsec, 0), 999_999_999)
	if n < 0 { // sec == maxSec and nanos past the int64 range
		return 1<<63 - 1
	}
	return uint64(n)
}

// splitAuditKey returns the parts of an event's key without its kind.
func splitAuditKey(k []byte) (t uint64, chain string, seq uint64, ok bool) {
	if len(k) < 8+1+8 || k[len(k)-9] != 0 {
		return 0, "", 0, false
	}
	return binary.BigEndian.Uint64(k), string(k[8 : len(k)-9]), binary.BigEndian.Uint64(k[len(k)-8:]), true
}

// head is a chain's newest event's sequence, hash and T.
type head struct {
	seq  uint64
	hash []byte
	t    uint64
}

// chainHead reads a chain's head; zero when the chain is empty.
func chainHead(r reader, chain string) (head, error) {
	v, err := r.get(auditHeads.raw([]byte(chain)))
	if err != nil || v == nil {
		return head{}, err
	}
	n := audit.CheckpointSize // then T, except in a migrated head, which needs none
	if len(v) != n && len(v) != n+8 {
		return head{}, fmt.Errorf("audit head of chain %q has %d bytes", chain, len(v))
	}
	h := head{seq: binary.BigEndian.Uint64(v), hash: bytes.Clone(v[8:n])}
	if len(v) > n {
		h.t = binary.BigEndian.Uint64(v[n:])
	}
	return h, nil
}

// appendAudit seals ev onto its workspace's chain and stores it. It
// assigns ev's sequence, hashes and time (moved a few nanoseconds at most),
// so it may run again. T passes clock, the store's latest, so one store's
// events list in commit order whatever the wall clock says.
func appendAudit(w writer, ev *pb.AuditEvent, clock *atomic.Uint64) error {
	chain := ev.GetWorkspaceId()
	h, err := chainHead(w.reader, chain)
	if err != nil {
		return err
	}
	prev := h.hash
	if h.seq == 0 && prev == nil {
		prev = audit.Genesis
	}
	t := max(uint64(max(ev.GetTime().AsTime().UnixNano(), 0)), h.t+1, clock.Load()+1)
	for c := clock.Load(); c < t && !clock.CompareAndSwap(c, t); c = clock.Load() {
	}
	ev.Time = timestamppb.New(time.Unix(0, int64(t)))
	audit.Seal(ev, h.seq, prev)
	val, err := encode(ev)
	if err != nil {
		return err
	}
	if err := w.put(AuditKey(t, chain, ev.GetSequence()), val); err != nil {
		return err
	}
	v := binary.BigEndian.AppendUint64(audit.EncodeCheckpoint(ev.GetSequence(), ev.GetHash()), t)
	return w.put(auditHeads.raw([]byte(chain)), v)
}

// RecordAudit commits ctx's audit event alone, for an action that changes
// nothing else (revealing a secret). ErrInvalid when ctx has none unrecorded.
func (s *Store) RecordAudit(ctx context.Context) error {
	if audit.FromContext(ctx).Draft() == nil {
		return fmt.Errorf("no audit event to record: %w", storage.ErrInvalid)
	}
	return s.update(ctx, func(writer) error { return nil })
}

// ListAuditEvents returns, in log order, at most limit (0: all) events
// after the cursor after ("": the start) that pass f, reading at most
// maxScan (0: all). next is the cursor to go on from when more may follow.
func (s *Store) ListAuditEvents(ctx context.Context, f audit.Filter, after string, limit, maxScan int) (events []*pb.AuditEvent, next string, err error) {
	start, err := hex.DecodeString(after)
	if err != nil {
		return nil, "", fmt.Errorf("audit cursor %q: %w", after, storage.ErrInvalid)
	}
	err = s.view(ctx, func(r reader) error {
		events, next = nil, ""
		scanned := 0
		var last []byte
		err := r.scan(audits.all(), string(start), func(k, v []byte) error {
			if limit > 0 && len(events) >= limit || maxScan > 0 && scanned >= maxScan {
				next = hex.EncodeToString(last)
				return errStop
			}
			scanned++
			last = append(last[:0], k...)
			ev, err := decode[pb.AuditEvent](v)
			if err == nil && f.Match(ev) {
				events = append(events, ev)
			}
			return err
		})
		if err == errStop {
			return nil
		}
		return err
	})
	return events, next, err
}

// errStop ends a walk early.
var errStop = fmt.Errorf("stop")

// VerifyAudit checks, in one read, every chain from its first event (or
// retention checkpoint) to its head. Counts are over all chains; the first
// broken chain is reported, with its name in the result's Chain.
func (s *Store) VerifyAudit(ctx context.Context) (audit.Result, error) {
	return viewed(ctx, s, func(r reader) (audit.Result, error) {
		chains := map[string]*audit.Verifier{}
		var order []string
		chainOf := func(chain string) (*audit.Verifier, error) {
			if v, ok := chains[chain]; ok {
				return v, nil
			}
			v := &audit.Verifier{}
			cp, err := r.get(auditCPs.raw([]byte(chain)))
			if err != nil {
				return nil, err
			}
			if seq, hash, err := audit.DecodeCheckpoint(cp); err != nil {
				v.StartBroken()
			} else if seq > 0 {
				v.Start(seq, hash)
			}
			chains[chain] = v
			order = append(order, chain)
			return v, nil
		}
		err := r.scan(audits.all(), "", func(k, val []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			t, chain, _, named := splitAuditKey(k)
			ev, decodeErr := decode[pb.AuditEvent](val)
			if !named {
				// Counted against the chain its event claims, or "".
				chain = ev.GetWorkspaceId()
			}
			v, err := chainOf(chain)
			if err != nil {
				return err
			}
			if !named || decodeErr != nil || chain != LegacyChain && (ev.GetWorkspaceId() != chain || uint64(ev.GetTime().AsTime().UnixNano()) != t) {
				// Unreadable, moved to another chain, or its time rewritten.
				v.AddUnreadable()
				return nil
			}
			v.Add(ev)
			return nil
		})
		if err != nil {
			return audit.Result{}, err
		}
		// Chains whose events are all gone still have a head.
		err = r.each(auditHeads.all(), "", 0, func(k, _ []byte) error {
			_, err := chainOf(string(k))
			return err
		})
		if err != nil {
			return audit.Result{}, err
		}
		res := audit.Result{OK: true}
		for _, chain := range order {
			h, err := chainHead(r, chain)
			if err != nil {
				h = head{seq: ^uint64(0)} // a mangled head is a broken chain
			}
			cr := chains[chain].End(h.seq, h.hash)
			res.Checked += cr.Checked
			res.Checkpoint = max(res.Checkpoint, cr.Checkpoint)
			if !cr.OK && res.OK {
				res.OK, res.FirstBroken, res.Chain = false, cr.FirstBroken, chainName(chain)
			}
		}
		return res, nil
	})
}

// DefaultAuditSweepBatch caps the events one commit of SweepAudit removes.
const DefaultAuditSweepBatch = 1000

// SweepAudit removes the events older than cutoff, oldest first, in commits
// of at most batch (0: DefaultAuditSweepBatch; within the engine's limits),
// each recording per chain the newest removed event as the checkpoint
// VerifyAudit starts from. A broken chain stops it (audit.ErrBroken). It
// returns how many it removed; on error the commits before it stand.
func (s *Store) SweepAudit(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = DefaultAuditSweepBatch
	}
	batch = min(batch, s.perTxn(1, 1))
	ctx = audit.Without(ctx)
	total := 0
	for {
		n := 0
		err := s.update(ctx, func(w writer) error {
			n = 0
			sweeps := map[string]*audit.Sweep{}
			var keys [][]byte
			err := w.each(audits.all(), "", batch, func(k, v []byte) error {
				_, chain, _, ok := splitAuditKey(k)
				if !ok {
					return fmt.Errorf("%w: audit key %x names no chain", audit.ErrBroken, k)
				}
				sw, ok := sweeps[chain]
				if !ok {
					cp, err := w.get(auditCPs.raw([]byte(chain)))
					if err != nil {
						return err
					}
					seq, hash, err := audit.DecodeCheckpoint(cp)
					if err != nil {
						return fmt.Errorf("%w: %w", audit.ErrBroken, err)
					}
					sw = audit.NewSweep(seq, hash, cutoff, batch)
					sweeps[chain] = sw
				}
				ev, err := decode[pb.AuditEvent](v)
				if err != nil {
					return fmt.Errorf("%w: event %x cannot be read", audit.ErrBroken, k)
				}
				take, err := sw.Take(ev)
				if err != nil {
					return err
				}
				if !take {
					return errStop // the log is in time order: the rest is newer
				}
				keys = append(keys, bytes.Clone(k))
				return nil
			})
			if err != nil && err != errStop {
				return err
			}
			for _, k := range keys {
				if err := w.del(append(audits.all(), k...)); err != nil {
					return err
				}
			}
			for chain, sw := range sweeps {
				if sw.Taken() > 0 {
					if err := w.put(auditCPs.raw([]byte(chain)), sw.Checkpoint()); err != nil {
						return err
					}
				}
			}
			n = len(keys)
			return nil
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

// chainName is how a result names a chain: its workspace, or what it is.
func chainName(chain string) string {
	switch chain {
	case "":
		return "(no workspace)"
	case LegacyChain:
		return "(before per-workspace chains)"
	}
	return strings.Clone(chain)
}
