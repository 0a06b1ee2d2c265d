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

// TestAuditEventsOfConcurrentWrites writes from many goroutines, so commits
// carry several writes, some of them rejected: exactly the successful ones
// have events, numbered without gaps, and the chain verifies.
func TestAuditEventsOfConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	const writers, each = 8, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded := map[string]bool{}
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				// Every writer tries the same ids of its half: half the
				// attempts are rejected as duplicates.
				id := fmt.Sprintf("ws-%d-%d", w%(writers/2), i)
				ctx, p := withEvent(t.Context(), "workspace.create", id, t0)
				err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: id})
				if (err == nil) != (p.Recorded() != nil) {
					t.Errorf("CreateWorkspace(%s) = %v but recorded = %v", id, err, p.Recorded())
				}
				if err == nil {
					mu.Lock()
					succeeded[id] = true
					mu.Unlock()
				} else if !errors.Is(err, storage.ErrAlreadyExists) {
					t.Errorf("CreateWorkspace(%s) = %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	evs := allEvents(t, s)
	if len(evs) != len(succeeded) || len(evs) != writers/2*each {
		t.Fatalf("%d events for %d successful writes; want %d", len(evs), len(succeeded), writers/2*each)
	}
	for i, ev := range evs {
		if ev.GetSequence() != uint64(i+1) {
			t.Fatalf("event %d has sequence %d", i, ev.GetSequence())
		}
		if !succeeded[ev.GetTarget()] {
			t.Errorf("event %d for %s, which was not written", ev.GetSequence(), ev.GetTarget())
		}
		delete(succeeded, ev.GetTarget())
	}
	res, err := s.VerifyAudit(t.Context())
	if err != nil || !res.OK || res.Checked != uint64(len(evs)) {
		t.Errorf("VerifyAudit = %+v, %v; want ok over %d events", res, err, len(evs))
	}
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
			path := filepath.Join(t.TempDir(), "ta.db")
			s, err := bbolt.Open(path, bbolt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				id := fmt.Sprintf("ws-%d", i)
				ctx, _ := withEvent(t.Context(), "workspace.create", id, t0.Add(time.Duration(i)*time.Second))
				if err := s.CreateWorkspace(ctx, &pb.Workspace{WorkspaceId: id}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tt.tamper); err != nil {
				t.Fatalf("tamper: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			s = openAt(t, path, bbolt.Options{})
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

func TestListAuditEvents(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	for i := range 10 {
		ws := []string{"acme", "beta"}[i%2]
		action := "token.create"
		if i%3 == 0 {
			action = "token.reveal"
		}
		ctx, _ := withEvent(t.Context(), action, ws, t0.Add(time.Duration(i)*time.Minute))
		if err := s.RecordAudit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(evs []*pb.AuditEvent) []uint64 {
		var out []uint64
		for _, ev := range evs {
			out = append(out, ev.GetSequence())
		}
		return out
	}
	tests := []struct {
		name        string
		f           audit.Filter
		after       uint64
		limit, scan int
		want        []uint64
		wantResume  uint64
	}{
		{"all", audit.Filter{}, 0, 0, 0, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0},
		{"page", audit.Filter{}, 3, 2, 0, []uint64{4, 5}, 0},
		{"workspace", audit.Filter{WorkspaceID: "beta"}, 0, 0, 0, []uint64{2, 4, 6, 8, 10}, 0},
		{"action", audit.Filter{Action: "token.reveal"}, 0, 0, 0, []uint64{1, 4, 7, 10}, 0},
		{"time range", audit.Filter{Start: t0.Add(2 * time.Minute), End: t0.Add(5 * time.Minute)}, 0, 0, 0, []uint64{3, 4, 5}, 0},
		{"scan bound", audit.Filter{Action: "token.reveal"}, 0, 10, 3, []uint64{1}, 3},
		{"resumed", audit.Filter{Action: "token.reveal"}, 3, 10, 3, []uint64{4}, 6},
		{"past the end", audit.Filter{}, 10, 0, 0, nil, 0},
	}
	for _, tt := range tests {
		got, resume, err := s.ListAuditEvents(t.Context(), tt.f, tt.after, tt.limit, tt.scan)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if fmt.Sprint(seqs(got)) != fmt.Sprint(tt.want) || resume != tt.wantResume {
			t.Errorf("%s: sequences %v resume %d; want %v resume %d", tt.name, seqs(got), resume, tt.want, tt.wantResume)
		}
	}
}
