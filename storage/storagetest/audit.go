package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// withEvent returns ctx carrying a workspace.create event for id.
func withEvent(ctx context.Context, action, target string, at time.Time) (context.Context, *audit.Pending) {
	return audit.NewContext(ctx, &pb.AuditEvent{
		Time: timestamppb.New(at), Actor: "web", Action: action, WorkspaceId: target, Target: target,
	})
}

func allEvents(t *testing.T, s storage.Backend) []*pb.AuditEvent {
	t.Helper()
	evs, resume, err := s.ListAuditEvents(t.Context(), audit.Filter{}, 0, 0, 0)
	if err != nil || resume != 0 {
		t.Fatalf("ListAuditEvents = %d events, resume %d, %v", len(evs), resume, err)
	}
	return evs
}

// TestAuditEventsOfConcurrentWrites writes from many goroutines, so commits
// carry several writes, some of them rejected: exactly the successful ones
// have events, numbered without gaps, and the chain verifies.
func testAuditEventsOfConcurrentWrites(t *testing.T, openStore NewStore) {
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

func testListAuditEvents(t *testing.T, openStore NewStore) {
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
