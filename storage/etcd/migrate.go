package etcd

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/core"
)

// A prefix of the first etcd layout (release 0.1.0, and main before the
// storage core: "layout 1") is moved to the core's layout by OpenClient
// before the core opens it, in transactions within the engine's limits.
// Keys are relative to the prefix:
//
//	schema_version "1"                  -> "3" first, for good: the old release refuses the prefix
//	key_check/0, key_check/<n>          -> meta/key_check, meta/key_check/<n>
//	ws/, member/, zoo/, token/, wstoken/ -> workspaces/, members/, zoos/, tokens/, workspace_tokens/
//	hash/<hex>, seed/<hex>              -> token_hashes/<raw>, seeds/<raw>
//	seedtok/<token> = <hex>             -> seed_of/<token> = <raw>
//	audit/<sequence, 20 digits>         -> core.AuditKey(T, core.LegacyChain, sequence)
//	audit_head, audit_checkpoint        -> audit_head/<LegacyChain>, audit_checkpoint/<LegacyChain>
//	(last)                              -> meta/schema_version "3"
//
// Values are kept, but seedtok's. T is core.MigratedAuditTime over the
// chain in sequence order (the T of an event moved already is in its key),
// so every process computes the same keys. A scan at one revision checks
// every key first: nothing is written while one is unknown or cannot be
// mapped, or the old release left a change unfinished (cleanup/...). The
// old keys are then moved in segments, several at once, each transaction
// putting new keys and deleting old ones: a process stopped half-way, or
// replicas starting together, go on from where the prefix is.
//
// How it can hurt you: a replica of the old release still running writes
// old keys behind the migration's back: stop them all first, and take an
// etcd snapshot, as there is no way back.
const (
	l1Schema     = "schema_version"
	l1Head       = "audit_head"
	l1Checkpoint = "audit_checkpoint"
	l1Audit      = "audit/"
	l1Guard      = "3"
	newSchema    = "meta/schema_version"
)

// l1Family is a family of layout 1's keys and how one moves.
type l1Family struct {
	old  string
	move func(rest, value []byte) (key, val []byte, err error)
}

func renamed(to string) func(rest, value []byte) ([]byte, []byte, error) {
	return func(rest, v []byte) ([]byte, []byte, error) { return append([]byte(to), rest...), v, nil }
}

// unhexed moves a key ending in a hex SHA-256 to one ending in its bytes.
func unhexed(to string) func(rest, value []byte) ([]byte, []byte, error) {
	return func(rest, v []byte) ([]byte, []byte, error) {
		h, err := hash32(rest)
		return append([]byte(to), h...), v, err
	}
}

func hash32(s []byte) ([]byte, error) {
	h, err := hex.DecodeString(string(s))
	if err != nil || len(h) != 32 {
		return nil, fmt.Errorf("not a hex SHA-256 (%d bytes)", len(s))
	}
	return h, nil
}

// keyName quotes a key for an error, leaving out a secret's or a seed's
// hash.
func keyName(k []byte) string {
	for _, p := range []string{"hash/", "seed/"} {
		if bytes.HasPrefix(k, []byte(p)) {
			return strconv.Quote(p + "…")
		}
	}
	return strconv.Quote(string(k))
}

var l1Families = []l1Family{
	{"key_check/", func(rest, v []byte) ([]byte, []byte, error) {
		id, err := strconv.ParseUint(string(rest), 10, 32)
		switch {
		case err != nil || strconv.FormatUint(id, 10) != string(rest):
			return nil, nil, fmt.Errorf("%q is not a key id", rest)
		case id == 0:
			return []byte("meta/key_check"), v, nil
		}
		return append([]byte("meta/key_check/"), rest...), v, nil
	}},
	{"ws/", renamed("workspaces/")},
	{"member/", renamed("members/")},
	{"zoo/", renamed("zoos/")},
	{"token/", renamed("tokens/")},
	{"wstoken/", renamed("workspace_tokens/")},
	{"hash/", unhexed("token_hashes/")},
	{"seed/", unhexed("seeds/")},
	{"seedtok/", func(rest, v []byte) ([]byte, []byte, error) {
		h, err := hash32(v)
		return append([]byte("seed_of/"), rest...), h, err
	}},
}

// How a migration moves: segments of about segmentKeys old keys, at most
// movers of them at once (etcd answers one client's transactions in
// parallel; one at a time, a migration waits on each commit).
const (
	segmentKeys = 1024
	movers      = 8
)

// The core's families, which a migration under way has begun to write.
var l1Moved = []string{"meta/", "workspaces/", "members/", "zoos/", "tokens/", "workspace_tokens/",
	"token_hashes/", "seeds/", "seed_of/", "audit_head/", "audit_checkpoint/"}

// oldAuditSeq returns the sequence of an old event's key (without l1Audit).
func oldAuditSeq(rest []byte) (uint64, bool) {
	if len(rest) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(string(rest), 10, 64)
	return seq, err == nil
}

// movedAudit returns the T and sequence of a moved event's key (without
// l1Audit): T, LegacyChain, 0x00, sequence.
func movedAudit(rest []byte) (t, seq uint64, ok bool) {
	if len(rest) != 8+len(core.LegacyChain)+1+8 || string(rest[8:9]) != core.LegacyChain || rest[9] != 0 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(rest), binary.BigEndian.Uint64(rest[10:]), true
}

// plan is what a scan found still to move.
type plan struct {
	done     bool // another process finished the migration first
	segments []segment
	seqs, ts []uint64 // the old events' sequences, ascending, and their keys' T
	keys     int      // old keys to move
}

// segment is a range [start, end) of old keys of one family.
type segment struct{ start, end []byte }

// eventT returns the T of the old event seq.
func (p *plan) eventT(seq uint64) (uint64, bool) {
	i, ok := slices.BinarySearch(p.seqs, seq)
	if !ok {
		return 0, false
	}
	return p.ts[i], true
}

// stepped bounds each transaction of an engine by step.
type stepped struct {
	e    *Engine
	step time.Duration
}

func (m stepped) View(ctx context.Context, fn func(storage.ReadTx) error) error {
	ctx, cancel := context.WithTimeout(ctx, m.step)
	defer cancel()
	return m.e.View(ctx, fn)
}

func (m stepped) Update(ctx context.Context, fn func(storage.Tx) error) (int64, error) {
	if hook, ok := ctx.Value(stepHookKey{}).(func() error); ok {
		if err := hook(); err != nil {
			return 0, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, m.step)
	defer cancel()
	return m.e.Update(ctx, fn)
}

// stepHookKey carries a test's function run before each transaction of a
// migration (export_test.go); its error stops the migration as a crash would.
type stepHookKey struct{}

// migrateLayout1 moves a prefix of layout 1 to the core's layout and
// reports how many keys it moved; a prefix of another layout is left alone.
// Each transaction is bounded by step, the whole only by how much there is:
// ctx ending does not stop it.
func migrateLayout1(ctx context.Context, e *Engine, step time.Duration, log *slog.Logger) (int, error) {
	m := stepped{e: e, step: step}
	ctx = context.WithoutCancel(ctx)
	var version []byte
	err := m.View(ctx, func(tx storage.ReadTx) error {
		if _, err := tx.Get([]byte(newSchema)); !errors.Is(err, storage.ErrNotFound) {
			return err // nil: the core's layout already
		}
		v, err := tx.Get([]byte(l1Schema))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		version = bytes.Clone(v)
		return err
	})
	if err != nil || version == nil {
		return 0, err
	}
	if s := string(version); s != "1" && s != l1Guard {
		return 0, fmt.Errorf("schema version %q of the first etcd layout is unknown to this build: %w", version, storage.ErrInvalid)
	}
	// The scan reads the whole prefix at one revision: a bound of its own.
	p, err := scanLayout1(ctx, stepped{e: e, step: max(step, 10*time.Minute)})
	if err != nil || p.done {
		return 0, err
	}
	if _, err := m.Update(ctx, func(tx storage.Tx) error { return tx.Put([]byte(l1Schema), []byte(l1Guard)) }); err != nil {
		return 0, err
	}
	log.Info("migrating the etcd prefix from the first layout", "keys", p.keys)
	var moved atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				log.Info("migrating the etcd prefix from the first layout", "moved", moved.Load(), "keys", p.keys)
			}
		}
	}()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(movers)
	for _, seg := range p.segments {
		g.Go(func() error {
			n, err := moveSegment(gctx, m, &p, seg)
			moved.Add(int64(n))
			if err != nil {
				return fmt.Errorf("migrate keys from %s: %w", keyName(seg.start), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return int(moved.Load()), err
	}
	if _, err := m.Update(ctx, finishLayout1); err != nil {
		return int(moved.Load()), fmt.Errorf("finish the migration: %w", err)
	}
	return int(moved.Load()), nil
}

// scanLayout1 reads every key at one revision and plans the move. It
// refuses a key that is neither layout 1's nor the core's, or that cannot
// be moved, before anything is written.
func scanLayout1(ctx context.Context, m stepped) (plan, error) {
	var p plan
	type event struct{ seq, t uint64 } // t: an old event's own time, a moved one's T
	var old, moved []event
	var seg segment
	family, n := "", 0
	cut := func() {
		if seg.start != nil {
			p.segments = append(p.segments, seg)
		}
		seg, n = segment{}, 0
	}
	check := func(k, v []byte) (string, error) {
		if bytes.HasPrefix(k, []byte("cleanup/")) {
			return "", errors.New("the release that wrote this prefix left a change unfinished; start that release once (it finishes them when it opens), stop it, then start this one")
		}
		switch s := string(k); {
		case s == l1Schema, s == l1Head, s == l1Checkpoint:
			return "", nil
		case bytes.HasPrefix(k, []byte(l1Audit)):
			if seq, ok := oldAuditSeq(k[len(l1Audit):]); ok {
				ev := &pb.AuditEvent{}
				if proto.Unmarshal(v, ev) != nil {
					ev = nil // kept as it is, for VerifyAudit to report
				}
				old = append(old, event{seq, core.EventNanos(ev)})
				return l1Audit, nil
			}
			if t, seq, ok := movedAudit(k[len(l1Audit):]); ok {
				moved = append(moved, event{seq, t})
				return "", nil
			}
		}
		for _, f := range l1Families {
			if rest, ok := bytes.CutPrefix(k, []byte(f.old)); ok {
				_, _, err := f.move(rest, v)
				return f.old, err
			}
		}
		for _, prefix := range l1Moved {
			if bytes.HasPrefix(k, []byte(prefix)) {
				return "", nil
			}
		}
		return "", errors.New("unknown to this build")
	}
	err := m.View(ctx, func(tx storage.ReadTx) error {
		p, old, moved, seg, family, n = plan{}, nil, nil, segment{}, "", 0
		// A replica that finished first may be serving, and writing keys of
		// the core's own: nothing is left to do then.
		if _, err := tx.Get([]byte(newSchema)); !errors.Is(err, storage.ErrNotFound) {
			p.done = err == nil
			return err
		}
		for after := []byte{0}; after != nil; {
			next := []byte(nil)
			err := tx.Range(after, nil, 1000, func(k, v []byte) error {
				fam, err := check(k, v)
				if err != nil {
					return fmt.Errorf("migrate the first etcd layout: key %s: %v; nothing was changed: %w", keyName(k), err, storage.ErrInvalid)
				}
				next = append(bytes.Clone(k), 0)
				if fam == "" {
					return nil
				}
				if fam != family || n == segmentKeys {
					cut()
					family, seg.start = fam, bytes.Clone(k)
				}
				seg.end, n = next, n+1
				p.keys++
				return nil
			})
			if err != nil {
				return err
			}
			after = next
		}
		cut()
		return nil
	})
	if err != nil || p.done {
		return p, err
	}
	// T in sequence order: moved keys sort by T, which grows with the
	// sequence, so both lists are in sequence order.
	prev, first := uint64(0), true
	for i, j := 0, 0; i < len(old); {
		if j < len(moved) && moved[j].seq < old[i].seq {
			prev, first = moved[j].t, false
			j++
			continue
		}
		t, err := core.MigratedAuditTime(old[i].t, prev, first)
		if err != nil {
			return plan{}, fmt.Errorf("audit event %d: %w", old[i].seq, err)
		}
		p.seqs, p.ts = append(p.seqs, old[i].seq), append(p.ts, t)
		prev, first = t, false
		i++
	}
	return p, nil
}

// moveSegment moves the old keys of seg, in transactions of as many as the
// engine's limits take, and reports how many it moved.
func moveSegment(ctx context.Context, m stepped, p *plan, seg segment) (int, error) {
	l := m.e.opts.Limits
	per := max(min(l.MaxOps, l.MaxReads)/2-2, 1) // a read, a put and a delete a key
	total := 0
	for from := seg.start; ; {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int
		var next []byte
		_, err := m.Update(ctx, func(tx storage.Tx) error {
			var olds []storage.Change
			n, next = 0, nil
			err := tx.Range(from, seg.end, per, func(k, v []byte) error {
				olds = append(olds, storage.Change{Key: bytes.Clone(k), Value: bytes.Clone(v)})
				return nil
			})
			if err != nil || len(olds) == 0 {
				return err
			}
			next = append(olds[len(olds)-1].Key, 0)
			for _, o := range olds {
				k, v, err := moveKey(p, o.Key, o.Value)
				if err != nil {
					return fmt.Errorf("key %s: %w", keyName(o.Key), err)
				}
				if k == nil {
					continue // moved already (an event whose T reads as digits)
				}
				if err := tx.Put(k, v); err != nil {
					return err
				}
				if err := tx.Delete(o.Key); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if errors.Is(err, storage.ErrTooLarge) && per > 1 {
			per /= 2 // big values: fewer a transaction
			continue
		}
		if err != nil || next == nil {
			return total, err
		}
		total += n
		from = next
	}
}

// moveKey returns the new key and value of an old one; nil for a key of
// the core's layout.
func moveKey(p *plan, k, v []byte) ([]byte, []byte, error) {
	if rest, ok := bytes.CutPrefix(k, []byte(l1Audit)); ok {
		seq, ok := oldAuditSeq(rest)
		if !ok {
			return nil, nil, nil
		}
		t, ok := p.eventT(seq)
		if !ok {
			return nil, nil, errors.New("an audit event written since the migration began (is a replica of the old release running?)")
		}
		return core.AuditKey(t, core.LegacyChain, seq), v, nil
	}
	for _, f := range l1Families {
		if rest, ok := bytes.CutPrefix(k, []byte(f.old)); ok {
			return f.move(rest, v)
		}
	}
	return nil, nil, nil
}

// finishLayout1 moves the chain's head and checkpoint and marks the prefix
// the core's, once no old key is left.
func finishLayout1(tx storage.Tx) error {
	for _, f := range l1Families {
		err := storage.RangePrefix(tx, []byte(f.old), 1, func(k, _ []byte) error {
			return fmt.Errorf("key %s is still to be moved (is a replica of the old release running?)", keyName(k))
		})
		if err != nil {
			return err
		}
	}
	for old, to := range map[string]string{l1Head: "audit_head/", l1Checkpoint: "audit_checkpoint/"} {
		v, err := tx.Get([]byte(old))
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := tx.Put([]byte(to+core.LegacyChain), v); err != nil {
			return err
		}
		if err := tx.Delete([]byte(old)); err != nil {
			return err
		}
	}
	return tx.Put([]byte(newSchema), []byte(l1Guard))
}
