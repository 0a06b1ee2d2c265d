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

// record records an event of action in workspace ws at at, on its own.
func record(t *testing.T, s storage.Backend, ws, action, target string, at time.Time) {
	t.Helper()
	ctx, _ := audit.NewContext(t.Context(), &pb.AuditEvent{
		Time: timestamppb.New(at), Actor: "web", Action: action, WorkspaceId: ws, Target: target,
	})
	if err := s.RecordAudit(ctx); err != nil {
		t.Fatalf("RecordAudit(%s, %s) = %v", ws, target, err)
	}
}

func allEvents(t *testing.T, s storage.Backend) []*pb.AuditEvent {
	t.Helper()
	evs, next, err := s.ListAuditEvents(t.Context(), audit.Filter{}, "", 0, 0)
	if err != nil || next != "" {
		t.Fatalf("ListAuditEvents = %d events, next %q, %v", len(evs), next, err)
	}
	return evs
}

// TestAuditEventsOfConcurrentWrites writes from many goroutines, so commits
// carry several writes, some of them rejected: exactly the successful ones
// have events, each workspace's chain numbered without gaps, and the
// chains verify.
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
		// Each workspace's first event, in a chain of its own.
		if ev.GetSequence() != 1 || ev.GetWorkspaceId() != ev.GetTarget() {
			t.Fatalf("event %d: sequence %d in chain %q of %s; want the first of its own", i, ev.GetSequence(), ev.GetWorkspaceId(), ev.GetTarget())
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
		record(t, s, ws, action, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute))
	}
	targets := func(evs []*pb.AuditEvent) string {
		var out []string
		for _, ev := range evs {
			out = append(out, ev.GetTarget())
		}
		return fmt.Sprint(out)
	}
	list := func(f audit.Filter, after string, limit, scan int) ([]*pb.AuditEvent, string) {
		t.Helper()
		evs, next, err := s.ListAuditEvents(t.Context(), f, after, limit, scan)
		if err != nil {
			t.Fatalf("ListAuditEvents(%+v, %q, %d, %d) = %v", f, after, limit, scan, err)
		}
		return evs, next
	}
	// Pages follow each other's cursors to the end, in time order across
	// both workspaces' chains.
	var pages []string
	after := ""
	for range 6 {
		evs, next := list(audit.Filter{}, after, 3, 0)
		pages = append(pages, targets(evs))
		if after = next; after == "" {
			break
		}
	}
	if got, want := fmt.Sprint(pages), "[[0 1 2] [3 4 5] [6 7 8] [9]]"; got != want {
		t.Errorf("pages of 3 = %s; want %s", got, want)
	}
	tests := []struct {
		name        string
		f           audit.Filter
		limit, scan int
		want        string
		wantMore    bool
	}{
		{"all", audit.Filter{}, 0, 0, "[0 1 2 3 4 5 6 7 8 9]", false},
		{"exactly all", audit.Filter{}, 10, 0, "[0 1 2 3 4 5 6 7 8 9]", false},
		{"workspace", audit.Filter{WorkspaceID: "beta"}, 0, 0, "[1 3 5 7 9]", false},
		{"action", audit.Filter{Action: "token.reveal"}, 0, 0, "[0 3 6 9]", false},
		{"time range", audit.Filter{Start: t0.Add(2 * time.Minute), End: t0.Add(5 * time.Minute)}, 0, 0, "[2 3 4]", false},
		{"scan bound", audit.Filter{Action: "token.reveal"}, 10, 3, "[0]", true},
	}
	for _, tt := range tests {
		got, next := list(tt.f, "", tt.limit, tt.scan)
		if targets(got) != tt.want || (next != "") != tt.wantMore {
			t.Errorf("%s: %s, next %q; want %s, more %v", tt.name, targets(got), next, tt.want, tt.wantMore)
		}
	}
	// A scan bound resumes where it stopped.
	var found []string
	after = ""
	for range 10 {
		evs, next := list(audit.Filter{Action: "token.reveal"}, after, 10, 3)
		found = append(found, targets(evs))
		if after = next; after == "" {
			break
		}
	}
	if got, want := fmt.Sprint(found), "[[0] [3] [6] [9]]"; got != want {
		t.Errorf("scans of 3 = %s; want %s", got, want)
	}
	// Each chain counts from 1.
	for _, ws := range []string{"acme", "beta"} {
		evs, _ := list(audit.Filter{WorkspaceID: ws}, "", 0, 0)
		for i, ev := range evs {
			if ev.GetSequence() != uint64(i+1) {
				t.Errorf("%s event %d has sequence %d", ws, i, ev.GetSequence())
			}
		}
	}
	if _, _, err := s.ListAuditEvents(t.Context(), audit.Filter{}, "not a cursor", 0, 0); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("ListAuditEvents(bad cursor) = %v; want ErrInvalid", err)
	}
}

// testAuditRetention removes the events older than a cutoff in bounded
// commits: the rest stay listable, the chain verifies from the checkpoint
// of the last removed event, later events continue it, and a sweep past
// every event leaves a chain that still verifies and grows.
func testAuditRetention(t *testing.T, openStore NewStore) {
	t.Parallel()
	s := openStore(t)
	// One workspace's chain.
	write := func(id string, at time.Time) {
		t.Helper()
		record(t, s, "acme", "token.reveal", id, at)
	}
	for i := range 9 {
		write(fmt.Sprintf("ws-%d", i), t0.Add(time.Duration(i)*time.Minute))
	}
	verify := func(what string, checked, checkpoint uint64) {
		t.Helper()
		res, err := s.VerifyAudit(t.Context())
		if err != nil {
			t.Fatalf("%s: VerifyAudit = %v", what, err)
		}
		if !res.OK || res.Checked != checked || res.Checkpoint != checkpoint {
			t.Errorf("%s: VerifyAudit = %+v; want ok, %d checked from checkpoint %d", what, res, checked, checkpoint)
		}
	}
	verify("before any sweep", 9, 0)

	// Older than 4m30s: events 1 to 5, in commits of two.
	n, err := s.SweepAudit(t.Context(), t0.Add(4*time.Minute+30*time.Second), 2)
	if err != nil || n != 5 {
		t.Fatalf("SweepAudit = %d, %v; want 5 removed", n, err)
	}
	evs := allEvents(t, s)
	if len(evs) != 4 || evs[0].GetSequence() != 6 {
		t.Fatalf("after the sweep %d events from %d; want 4 from 6", len(evs), evs[0].GetSequence())
	}
	verify("after the sweep", 4, 5)
	if n, err := s.SweepAudit(t.Context(), t0.Add(4*time.Minute+30*time.Second), 2); err != nil || n != 0 {
		t.Errorf("second sweep at the same cutoff = %d, %v; want nothing removed", n, err)
	}

	write("after-sweep", t0.Add(time.Hour))
	verify("after a later event", 5, 5)

	// Past every event: the chain is its checkpoint alone, and goes on.
	n, err = s.SweepAudit(t.Context(), t0.Add(2*time.Hour), 0)
	if err != nil || n != 5 {
		t.Fatalf("sweep of everything = %d, %v; want 5", n, err)
	}
	if evs := allEvents(t, s); len(evs) != 0 {
		t.Fatalf("%d events after a sweep past every event", len(evs))
	}
	verify("with every event removed", 0, 10)
	write("after-everything", t0.Add(3*time.Hour))
	evs = allEvents(t, s)
	if len(evs) != 1 || evs[0].GetSequence() != 11 {
		t.Fatalf("events after everything was swept = %v; want sequence 11", evs)
	}
	verify("after everything was swept and one more event", 1, 10)
}

// testAuditRetentionConcurrent sweeps while audited writes append: every
// write keeps its event or had it swept, and the chain verifies.
func testAuditRetentionConcurrent(t *testing.T, openStore NewStore) {
	t.Parallel()
	s := openStore(t)
	const writes = 60
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range writes {
			ctx, _ := audit.NewContext(t.Context(), &pb.AuditEvent{
				Time: timestamppb.New(t0.Add(time.Duration(i) * time.Second)), Actor: "web", Action: "token.reveal", WorkspaceId: "acme", Target: fmt.Sprint(i),
			})
			if err := s.RecordAudit(ctx); err != nil {
				t.Errorf("RecordAudit(%d) = %v", i, err)
			}
		}
	})
	swept := 0
	for range 10 {
		n, err := s.SweepAudit(t.Context(), t0.Add(30*time.Second), 3)
		if err != nil {
			t.Fatalf("SweepAudit during writes = %v", err)
		}
		swept += n
	}
	wg.Wait()
	n, err := s.SweepAudit(t.Context(), t0.Add(30*time.Second), 3)
	if err != nil {
		t.Fatal(err)
	}
	swept += n
	evs := allEvents(t, s)
	if swept != 30 || len(evs) != writes-30 {
		t.Errorf("swept %d, kept %d; want 30 and %d", swept, len(evs), writes-30)
	}
	res, err := s.VerifyAudit(t.Context())
	if err != nil || !res.OK || res.Checkpoint != 30 {
		t.Errorf("VerifyAudit = %+v, %v; want ok from checkpoint 30", res, err)
	}
}
