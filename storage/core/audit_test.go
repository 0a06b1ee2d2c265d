package core_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// rawEvent is one stored event as an attacker with write access to the
// engine sees it.
type rawEvent struct {
	key []byte
	ev  *pb.AuditEvent
}

// rawEvents reads every stored event straight from the engine, in key
// order.
func rawEvents(t *testing.T, e storage.Engine) []rawEvent {
	t.Helper()
	var out []rawEvent
	err := e.View(t.Context(), func(tx storage.ReadTx) error {
		return storage.RangePrefix(tx, []byte("audit/"), 0, func(k, v []byte) error {
			ev := new(pb.AuditEvent)
			if err := proto.Unmarshal(v, ev); err != nil {
				return err
			}
			out = append(out, rawEvent{bytes.Clone(k), ev})
			return nil
		})
	})
	if err != nil {
		t.Fatalf("read the stored events: %v", err)
	}
	return out
}

// find returns the stored event of chain ws with sequence seq.
func find(evs []rawEvent, ws string, seq uint64) rawEvent {
	for _, r := range evs {
		if r.ev.GetWorkspaceId() == ws && r.ev.GetSequence() == seq {
			return r
		}
	}
	panic(fmt.Sprintf("no event %s/%d", ws, seq))
}

func put(tx storage.Tx, k []byte, m proto.Message) error {
	v, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return tx.Put(k, v)
}

// TestVerifyAuditFindsTampering edits the stored chains directly in the
// engine, as an attacker with write access to the store would, after a
// retention sweep of part of one chain: VerifyAudit names the first
// broken event and its chain, and an untouched log verifies.
func TestVerifyAuditFindsTampering(t *testing.T) {
	type tamper func(tx storage.Tx, evs []rawEvent) error
	edit := func(ws string, seq uint64, change func(*pb.AuditEvent)) tamper {
		return func(tx storage.Tx, evs []rawEvent) error {
			r := find(evs, ws, seq)
			change(r.ev)
			return put(tx, r.key, r.ev)
		}
	}
	del := func(ws string, seq uint64) tamper {
		return func(tx storage.Tx, evs []rawEvent) error { return tx.Delete(find(evs, ws, seq).key) }
	}
	tests := []struct {
		name      string
		tamper    tamper
		wantSeq   uint64
		wantChain string
	}{
		{"untouched", func(storage.Tx, []rawEvent) error { return nil }, 0, ""},
		{"actor edited", edit("acme", 4, func(ev *pb.AuditEvent) { ev.Actor = "someone-else" }), 4, "acme"},
		{"edited and rehashed", edit("acme", 4, func(ev *pb.AuditEvent) { ev.Actor = "x"; ev.Hash = audit.Hash(ev) }), 5, "acme"},
		{"event deleted", del("acme", 4), 4, "acme"},
		{"newest cut off", del("acme", 6), 6, "acme"},
		{"first kept event deleted", del("acme", 3), 3, "acme"},
		{"renumbered", edit("beta", 2, func(ev *pb.AuditEvent) { ev.Sequence = 3 }), 2, "beta"},
		{"two swapped", func(tx storage.Tx, evs []rawEvent) error {
			a, b := find(evs, "acme", 4), find(evs, "acme", 5)
			return errors.Join(put(tx, a.key, b.ev), put(tx, b.key, a.ev))
		}, 4, "acme"},
		{"moved to another chain", func(tx storage.Tx, evs []rawEvent) error {
			r := find(evs, "beta", 2)
			k := bytes.Replace(bytes.Clone(r.key), []byte("beta"), []byte("acme"), 1)
			// acme's chain meets a stranger where its 4th event is due.
			return errors.Join(tx.Delete(r.key), put(tx, k, r.ev))
		}, 4, "acme"},
		{"time rewritten", edit("beta", 3, func(ev *pb.AuditEvent) { ev.Time = timestamppb.New(t0.Add(time.Hour)) }), 3, "beta"},
		{"key time moved", func(tx storage.Tx, evs []rawEvent) error {
			r := find(evs, "beta", 3)
			k := bytes.Clone(r.key)
			binary.BigEndian.PutUint64(k[len("audit/"):], binary.BigEndian.Uint64(k[len("audit/"):])+1)
			return errors.Join(tx.Delete(r.key), put(tx, k, r.ev))
		}, 3, "beta"},
		{"head mangled", func(tx storage.Tx, _ []rawEvent) error { return tx.Put([]byte("audit_head/beta"), []byte("junk")) }, 0, "beta"},
		{"head deleted", func(tx storage.Tx, _ []rawEvent) error { return tx.Delete([]byte("audit_head/acme")) }, 1, "acme"},
		{"checkpoint edited", func(tx storage.Tx, _ []rawEvent) error {
			return tx.Put([]byte("audit_checkpoint/acme"), audit.EncodeCheckpoint(2, make([]byte, audit.HashSize)))
		}, 3, "acme"},
		{"checkpoint deleted", func(tx storage.Tx, _ []rawEvent) error { return tx.Delete([]byte("audit_checkpoint/acme")) }, 1, "acme"},
	}
	for _, ec := range engineCases(t) {
		t.Run(ec.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					e, _ := ec.open(t, storage.EngineLimits{})
					s := openCore(t, e, ec.opts)
					// acme: 6 events, the first 2 swept; beta: 3, in between.
					for i := range 9 {
						ws := "acme"
						if i%3 == 1 {
							ws = "beta"
						}
						ctx, _ := audit.NewContext(t.Context(), &pb.AuditEvent{Time: timestamppb.New(t0.Add(time.Duration(i) * time.Minute)), Actor: "web", Action: "token.reveal", WorkspaceId: ws, Target: fmt.Sprint(i)})
						if err := s.RecordAudit(ctx); err != nil {
							t.Fatalf("RecordAudit %d = %v", i, err)
						}
					}
					if n, err := s.SweepAudit(t.Context(), t0.Add(150*time.Second), 0); err != nil || n != 3 {
						t.Fatalf("SweepAudit = %d, %v; want 3 (acme 1, 2 and beta 1)", n, err)
					}
					evs := rawEvents(t, e)
					if _, err := e.Update(t.Context(), func(tx storage.Tx) error { return tt.tamper(tx, evs) }); err != nil {
						t.Fatalf("tamper: %v", err)
					}
					res, err := s.VerifyAudit(context.WithoutCancel(t.Context()))
					if err != nil {
						t.Fatalf("VerifyAudit = %v", err)
					}
					if tt.wantChain == "" {
						if !res.OK || res.Checked != 6 {
							t.Errorf("VerifyAudit = %+v; want ok over 6 events", res)
						}
						return
					}
					if res.OK || res.Chain != tt.wantChain || tt.wantSeq != 0 && res.FirstBroken != tt.wantSeq {
						t.Errorf("VerifyAudit = %+v; want broken at %d in %s", res, tt.wantSeq, tt.wantChain)
					}
				})
			}
		})
	}
}
