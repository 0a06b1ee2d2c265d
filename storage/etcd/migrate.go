package etcd

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

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
// Values are kept, but seedtok's. T is core.MigratedAuditTime, carried from
// batch to batch in migrating/audit. Nothing is written while a key is
// unknown or cannot be mapped, or the old release left a change unfinished
// (cleanup/...). Each transaction moves keys (puts the new, deletes the
// old), so a process stopped half-way, or replicas starting together, go
// on from where the prefix is.
//
// How it can hurt you: a replica of the old release still running writes
// old keys behind the migration's back: stop them all first, and take an
// etcd snapshot, as there is no way back.
const (
	l1Schema     = "schema_version"
	l1Head       = "audit_head"
	l1Checkpoint = "audit_checkpoint"
	l1Audit      = "audit/"
	l1Progress   = "migrating/audit" // 1 once an event moved, its T (8 bytes), the last old key seen
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
		return nil, fmt.Errorf("%q is not a hex SHA-256", s)
	}
	return h, nil
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

// The core's families, which a migration under way has begun to write.
var l1Moved = []string{"meta/", "workspaces/", "members/", "zoos/", "tokens/", "workspace_tokens/",
	"token_hashes/", "seeds/", "seed_of/", "audit_head/", "audit_checkpoint/", l1Progress}

// oldAuditSeq returns the sequence of an old event's key (without l1Audit).
func oldAuditSeq(rest []byte) (uint64, bool) {
	if len(rest) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(string(rest), 10, 64)
	return seq, err == nil
}

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
	if err := checkLayout1(ctx, m); err != nil {
		return 0, err
	}
	if _, err := m.Update(ctx, func(tx storage.Tx) error { return tx.Put([]byte(l1Schema), []byte(l1Guard)) }); err != nil {
		return 0, err
	}
	per := max(min(e.opts.Limits.MaxOps, e.opts.Limits.MaxReads)/2-2, 1)
	moved := 0
	for _, f := range l1Families {
		for {
			m.report(log, moved)
			n, err := moveSome(ctx, m, f, per)
			if errors.Is(err, storage.ErrTooLarge) && per > 1 {
				per /= 2 // big values: fewer a transaction
				continue
			}
			if err != nil {
				return moved, fmt.Errorf("migrate keys %s: %w", f.old, err)
			}
			if n == 0 {
				break
			}
			moved += n
		}
	}
	for {
		m.report(log, moved)
		n, err := moveEvents(ctx, m, per)
		if errors.Is(err, storage.ErrTooLarge) && per > 1 {
			per /= 2
			continue
		}
		if err != nil {
			return moved, fmt.Errorf("migrate the audit log: %w", err)
		}
		if n < 0 {
			break
		}
		moved += n
	}
	if _, err := m.Update(ctx, finishLayout1); err != nil {
		return moved, fmt.Errorf("finish the migration: %w", err)
	}
	return moved, nil
}

// stepped bounds each transaction of an engine by step.
type stepped struct {
	e    *Engine
	step time.Duration
	said time.Time // when report last logged
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

// report logs how far the migration is, every ten seconds.
func (m *stepped) report(log *slog.Logger, moved int) {
	if m.said.IsZero() {
		m.said = time.Now()
	} else if time.Since(m.said) >= 10*time.Second {
		m.said = time.Now()
		log.Info("migrating the etcd prefix from the first layout", "keys_moved", moved)
	}
}

// checkLayout1 reads every key and refuses, before anything is written, a
// key that is neither layout 1's nor the core's, or that cannot be moved.
func checkLayout1(ctx context.Context, e stepped) error {
	const page = 1000
	check := func(k, v []byte) error {
		if bytes.HasPrefix(k, []byte("cleanup/")) {
			return errors.New("the release that wrote this prefix left a change unfinished; start that release once (it finishes them when it opens), stop it, then start this one")
		}
		switch s := string(k); {
		case s == l1Schema, s == l1Head, s == l1Checkpoint:
			return nil
		case bytes.HasPrefix(k, []byte(l1Audit)):
			if _, ok := oldAuditSeq(k[len(l1Audit):]); ok {
				return nil
			}
			if len(k) > len(l1Audit)+9 && k[len(k)-9] == 0 && string(k[len(k)-10]) == core.LegacyChain {
				return nil // moved already
			}
		}
		for _, f := range l1Families {
			if rest, ok := bytes.CutPrefix(k, []byte(f.old)); ok {
				_, _, err := f.move(rest, v)
				return err
			}
		}
		for _, p := range l1Moved {
			if bytes.HasPrefix(k, []byte(p)) {
				return nil
			}
		}
		return errors.New("unknown to this build")
	}
	for after := []byte{0}; after != nil; {
		var last []byte
		err := e.View(ctx, func(tx storage.ReadTx) error {
			last = nil
			return tx.Range(after, nil, page, func(k, v []byte) error {
				if err := check(k, v); err != nil {
					return fmt.Errorf("migrate the first etcd layout: key %q: %v; nothing was changed: %w", k, err, storage.ErrInvalid)
				}
				last = append(bytes.Clone(k), 0)
				return nil
			})
		})
		if err != nil {
			return err
		}
		after = last
	}
	return nil
}

// moveSome moves up to per keys of family f and reports how many.
func moveSome(ctx context.Context, e stepped, f l1Family, per int) (int, error) {
	var n int
	_, err := e.Update(ctx, func(tx storage.Tx) error {
		var olds []storage.Change
		n = 0
		err := storage.RangePrefix(tx, []byte(f.old), per, func(k, v []byte) error {
			olds = append(olds, storage.Change{Key: bytes.Clone(k), Value: bytes.Clone(v)})
			return nil
		})
		if err != nil {
			return err
		}
		for _, o := range olds {
			k, v, err := f.move(o.Key[len(f.old):], o.Value)
			if err != nil {
				return fmt.Errorf("key %q: %w", o.Key, err)
			}
			if err := tx.Put(k, v); err != nil {
				return err
			}
			if err := tx.Delete(o.Key); err != nil {
				return err
			}
		}
		n = len(olds)
		return nil
	})
	return n, err
}

// moveEvents moves the next up to per old audit events, in sequence order,
// and reports how many; -1 when none was left.
func moveEvents(ctx context.Context, e stepped, per int) (int, error) {
	var n int
	_, err := e.Update(ctx, func(tx storage.Tx) error {
		n = 0
		prev, first, after, err := auditProgress(tx)
		if err != nil {
			return err
		}
		var olds []storage.Change
		err = tx.Range(after, []byte(l1Audit+":"), per, func(k, v []byte) error {
			olds = append(olds, storage.Change{Key: bytes.Clone(k), Value: bytes.Clone(v)})
			return nil
		})
		if err != nil {
			return err
		}
		if len(olds) == 0 {
			n = -1
			return nil
		}
		for _, o := range olds {
			seq, ok := oldAuditSeq(o.Key[len(l1Audit):])
			if !ok {
				continue // an event moved already whose T reads as digits
			}
			ev := &pb.AuditEvent{}
			if proto.Unmarshal(o.Value, ev) != nil {
				ev = nil // kept as it is, for VerifyAudit to report
			}
			if prev, err = core.MigratedAuditTime(ev, prev, first); err != nil {
				return fmt.Errorf("event %d: %w", seq, err)
			}
			first = false
			if err := tx.Put(core.AuditKey(prev, core.LegacyChain, seq), o.Value); err != nil {
				return err
			}
			if err := tx.Delete(o.Key); err != nil {
				return err
			}
			n++
		}
		v := binary.BigEndian.AppendUint64([]byte{0}, prev)
		if !first {
			v[0] = 1
		}
		return tx.Put([]byte(l1Progress), append(v, olds[len(olds)-1].Key...))
	})
	return n, err
}

// auditProgress reads where moveEvents stopped: the T of the last event
// moved (first: none yet) and the key to range from.
func auditProgress(tx storage.ReadTx) (prev uint64, first bool, from []byte, err error) {
	v, err := tx.Get([]byte(l1Progress))
	if errors.Is(err, storage.ErrNotFound) {
		return 0, true, []byte(l1Audit + "0"), nil
	}
	if err != nil {
		return 0, false, nil, err
	}
	if len(v) < 9 {
		return 0, false, nil, fmt.Errorf("progress key of %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v[1:]), v[0] == 0, append(bytes.Clone(v[9:]), 0), nil
}

// finishLayout1 moves the chain's head and checkpoint and marks the prefix
// the core's, once no old key is left.
func finishLayout1(tx storage.Tx) error {
	for _, f := range l1Families {
		err := storage.RangePrefix(tx, []byte(f.old), 1, func(k, _ []byte) error {
			return fmt.Errorf("key %q is still to be moved (a replica of the old release is writing?)", k)
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
	if err := tx.Delete([]byte(l1Progress)); err != nil {
		return err
	}
	return tx.Put([]byte(newSchema), []byte(l1Guard))
}
