package bbolt_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
)

// withEvent returns ctx carrying a workspace.create event for id.
func withEvent(ctx context.Context, action, target string, at time.Time) (context.Context, *audit.Pending) {
	return audit.NewContext(ctx, &pb.AuditEvent{
		Time: timestamppb.New(at), Actor: "web", Action: action, WorkspaceId: target, Target: target,
	})
}

func allEvents(t *testing.T, s *bbolt.Store) []*pb.AuditEvent {
	t.Helper()
	evs, resume, err := s.ListAuditEvents(t.Context(), audit.Filter{}, 0, 0, 0)
	if err != nil || resume != 0 {
		t.Fatalf("ListAuditEvents = %d events, resume %d, %v", len(evs), resume, err)
	}
	return evs
}

// TestAuditEventCommitsWithItsChange: a write carrying an event commits
// both in one commit; a rejected write records nothing; a request records at
// most one event however many writes it makes.
func TestAuditEventCommitsWithItsChange(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var commits []int
	s := openAt(t, filepath.Join(t.TempDir(), "ta.db"), bbolt.Options{OnCommit: func(n int) {
		mu.Lock()
		commits = append(commits, n)
		mu.Unlock()
	}})
	ctx, p := withEvent(t.Context(), "workspace.create", "acme", t0)
	if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "acme"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(commits) != 1 || commits[0] != 1 {
		t.Errorf("commits = %v; want one commit of one write (the change and its event)", commits)
	}
	mu.Unlock()
	rec := p.Recorded()
	if rec.GetSequence() != 1 || rec.GetTarget() != "acme" || len(rec.GetHash()) != audit.HashSize {
		t.Fatalf("recorded event = %v; want sequence 1 for acme, hashed", rec)
	}
	// Later writes of the same request add nothing.
	if err := s.AddMember(ctx, &pb.Member{WorkspaceId: "acme", UserId: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAudit(ctx); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("RecordAudit of a recorded event = %v; want ErrInvalid", err)
	}
	// A rejection records nothing.
	ctx2, p2 := withEvent(t.Context(), "workspace.create", "acme", t0)
	if err := s.CreateWorkspace(ctx2, &pb.Workspace{WorkspaceId: "acme"}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("second CreateWorkspace = %v; want ErrAlreadyExists", err)
	}
	if p2.Recorded() != nil {
		t.Error("a rejected write recorded its event")
	}
	evs := allEvents(t, s)
	if len(evs) != 1 || !proto.Equal(evs[0], rec) {
		t.Errorf("stored events = %v; want only %v", evs, rec)
	}
	if err := s.RecordAudit(t.Context()); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("RecordAudit without an event = %v; want ErrInvalid", err)
	}
	ctx3, p3 := withEvent(t.Context(), "token.reveal", "acme", t0)
	if err := s.RecordAudit(ctx3); err != nil || p3.Recorded().GetSequence() != 2 {
		t.Errorf("RecordAudit = %v, recorded %v; want sequence 2", err, p3.Recorded())
	}
}

// tampered writes n audited workspaces, an interval apart from t0, runs
// then (if any) on the store, closes it, edits the file directly with
// bbolt as an attacker with the file would (tamper), and opens it again.
func tampered(t *testing.T, n int, interval time.Duration, then func(*bbolt.Store), tamper func(*bolt.Tx) error) *bbolt.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ta.db")
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("ws-%d", i)
		ctx, _ := withEvent(t.Context(), "workspace.create", id, t0.Add(time.Duration(i)*interval))
		if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: id}); err != nil {
			t.Fatal(err)
		}
	}
	if then != nil {
		then(s)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(tamper); err != nil {
		t.Fatalf("tamper: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return openAt(t, path, bbolt.Options{})
}

// TestVerifyAuditFindsTampering edits the closed store file directly with
// bbolt, as an attacker with the file would, and checks that VerifyAudit
// names the first broken sequence.
func TestVerifyAuditFindsTampering(t *testing.T) {
	t.Parallel()
	edit := func(fn func(b, meta *bolt.Bucket) error) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte("audit")), tx.Bucket([]byte("meta"))) }
	}
	key := func(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
	rewrite := func(seq uint64, change func(*pb.AuditEvent)) func(*bolt.Tx) error {
		return edit(func(b, _ *bolt.Bucket) error {
			ev := &pb.AuditEvent{}
			if err := proto.Unmarshal(b.Get(key(seq)), ev); err != nil {
				return err
			}
			change(ev)
			v, err := proto.Marshal(ev)
			if err != nil {
				return err
			}
			return b.Put(key(seq), v)
		})
	}
	tests := []struct {
		name       string
		tamper     func(*bolt.Tx) error
		wantBroken uint64
	}{
		{"untouched", func(*bolt.Tx) error { return nil }, 0},
		{"actor edited", rewrite(3, func(ev *pb.AuditEvent) { ev.Actor = "nobody" }), 3},
		{"time edited", rewrite(2, func(ev *pb.AuditEvent) { ev.Time.Seconds-- }), 2},
		{"edited with its hash recomputed", rewrite(3, func(ev *pb.AuditEvent) { ev.Target = "x"; ev.Hash = audit.Hash(ev) }), 4},
		{"event deleted", edit(func(b, _ *bolt.Bucket) error { return b.Delete(key(2)) }), 2},
		{"events swapped", edit(func(b, _ *bolt.Bucket) error {
			v2, v3 := append([]byte(nil), b.Get(key(2))...), append([]byte(nil), b.Get(key(3))...)
			if err := b.Put(key(2), v3); err != nil {
				return err
			}
			return b.Put(key(3), v2)
		}), 2},
		{"newest deleted", edit(func(b, _ *bolt.Bucket) error { return b.Delete(key(5)) }), 5},
		{"garbage value", edit(func(b, _ *bolt.Bucket) error { return b.Put(key(4), []byte{0xff, 0xff}) }), 4},
		{"head mangled", edit(func(_, meta *bolt.Bucket) error { return meta.Put([]byte("audit_head"), []byte("x")) }), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tampered(t, 5, time.Second, nil, tt.tamper)
			res, err := s.VerifyAudit(t.Context())
			if err != nil {
				t.Fatalf("VerifyAudit: %v", err)
			}
			if res.OK != (tt.wantBroken == 0) || res.FirstBroken != tt.wantBroken {
				t.Errorf("VerifyAudit = %+v; want first broken sequence %d", res, tt.wantBroken)
			}
			// Appending after tampering keeps the break visible.
			ctx, _ := withEvent(t.Context(), "workspace.create", "later", t0)
			err = s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: "later"})
			// A head that cannot be read stops audited writes rather than
			// start a second chain.
			if wantFail := tt.name == "head mangled"; (err != nil) != wantFail {
				t.Fatalf("CreateWorkspace after tampering = %v; want failure %v", err, wantFail)
			}
			if again, err := s.VerifyAudit(t.Context()); err != nil || again.FirstBroken != tt.wantBroken {
				t.Errorf("after another event VerifyAudit = %+v, %v; want first broken %d", again, err, tt.wantBroken)
			}
		})
	}
}

// TestVerifyAuditFromCheckpointFindsTampering: after a retention sweep the
// chain is checked from its checkpoint, and every edit of the kept events
// or of the checkpoint itself is still found.
func TestVerifyAuditFromCheckpointFindsTampering(t *testing.T) {
	t.Parallel()
	key := func(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
	edit := func(fn func(b, meta *bolt.Bucket) error) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte("audit")), tx.Bucket([]byte("meta"))) }
	}
	checkpoint := func(change func(v []byte) []byte) func(*bolt.Tx) error {
		return edit(func(_, meta *bolt.Bucket) error {
			v := change(append([]byte(nil), meta.Get([]byte("audit_checkpoint"))...))
			if v == nil {
				return meta.Delete([]byte("audit_checkpoint"))
			}
			return meta.Put([]byte("audit_checkpoint"), v)
		})
	}
	tests := []struct {
		name       string
		tamper     func(*bolt.Tx) error
		wantBroken uint64
	}{
		{"untouched", func(*bolt.Tx) error { return nil }, 0},
		{"first kept event deleted", edit(func(b, _ *bolt.Bucket) error { return b.Delete(key(5)) }), 5},
		{"first two kept events deleted", edit(func(b, _ *bolt.Bucket) error {
			if err := b.Delete(key(5)); err != nil {
				return err
			}
			return b.Delete(key(6))
		}), 5},
		{"kept event edited", edit(func(b, _ *bolt.Bucket) error {
			ev := &pb.AuditEvent{}
			if err := proto.Unmarshal(b.Get(key(6)), ev); err != nil {
				return err
			}
			ev.Actor = "nobody"
			v, err := proto.Marshal(ev)
			if err != nil {
				return err
			}
			return b.Put(key(6), v)
		}), 6},
		{"kept events swapped", edit(func(b, _ *bolt.Bucket) error {
			v5, v6 := append([]byte(nil), b.Get(key(5))...), append([]byte(nil), b.Get(key(6))...)
			if err := b.Put(key(5), v6); err != nil {
				return err
			}
			return b.Put(key(6), v5)
		}), 5},
		{"checkpoint hash edited", checkpoint(func(v []byte) []byte { v[len(v)-1] ^= 1; return v }), 5},
		{"checkpoint sequence lowered", checkpoint(func(v []byte) []byte { binary.BigEndian.PutUint64(v, 3); return v }), 4},
		{"checkpoint sequence raised", checkpoint(func(v []byte) []byte { binary.BigEndian.PutUint64(v, 5); return v }), 6},
		{"checkpoint deleted", checkpoint(func([]byte) []byte { return nil }), 1},
		{"checkpoint mangled", checkpoint(func([]byte) []byte { return []byte("x") }), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tampered(t, 8, time.Minute, func(s *bbolt.Store) {
				// Events 1 to 4 go; the checkpoint is event 4.
				if n, err := s.SweepAudit(t.Context(), t0.Add(3*time.Minute+30*time.Second), 3); err != nil || n != 4 {
					t.Fatalf("SweepAudit = %d, %v; want 4", n, err)
				}
			}, tt.tamper)
			res, err := s.VerifyAudit(t.Context())
			if err != nil {
				t.Fatalf("VerifyAudit: %v", err)
			}
			if res.OK != (tt.wantBroken == 0) || res.FirstBroken != tt.wantBroken {
				t.Errorf("VerifyAudit = %+v; want first broken sequence %d", res, tt.wantBroken)
			}
			// A sweep never removes a broken part of the chain.
			if tt.wantBroken != 0 {
				_, err := s.SweepAudit(t.Context(), t0.Add(time.Hour), 0)
				if !errors.Is(err, audit.ErrBroken) {
					t.Errorf("SweepAudit over a broken chain = %v; want audit.ErrBroken", err)
				}
				if again, err := s.VerifyAudit(t.Context()); err != nil || again.OK {
					t.Errorf("after the refused sweep VerifyAudit = %+v, %v; want still broken", again, err)
				}
			}
		})
	}
}
