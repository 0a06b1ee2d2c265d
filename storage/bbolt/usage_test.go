package bbolt_test

import (
	"context"
	"testing"
	"time"

	"tokenauthority/storage/bbolt"
)

func TestRecordUses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, commits := countingStore(t)
	addWorkspace(t, s, "acme", "ann")
	addToken(t, s, "acme", "ann", "01")
	addToken(t, s, "acme", "ann", "02")
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)

	before := commits.Load()
	n, err := s.RecordUses(ctx, map[string]time.Time{"01": t2, "02": t1, "99": t1, "": t1})
	if err != nil || n != 2 {
		t.Fatalf("RecordUses = %d, %v; want 2 records changed", n, err)
	}
	if got := commits.Load() - before; got != 1 {
		t.Errorf("RecordUses took %d commits; want 1", got)
	}
	// An older use never moves the time back; a newer one moves it on.
	if n, err := s.RecordUses(ctx, map[string]time.Time{"01": t1, "02": t2}); err != nil || n != 1 {
		t.Fatalf("RecordUses = %d, %v; want 1 record changed", n, err)
	}
	for id, want := range map[string]time.Time{"01": t2, "02": t2} {
		rec, err := s.GetToken(ctx, "acme", id)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.GetToken().GetLastUsedTime(); got == nil || !got.AsTime().Equal(want) {
			t.Errorf("token %s last_used_time = %v; want %v", id, got, want)
		}
	}
	// Nothing to write: no commit at all.
	before = commits.Load()
	if n, err := s.RecordUses(ctx, nil); err != nil || n != 0 {
		t.Errorf("RecordUses(nil) = %d, %v", n, err)
	}
	if got := commits.Load() - before; got != 0 {
		t.Errorf("RecordUses(nil) took %d commits; want 0", got)
	}
}

// TestRecordUsesSurvivesReopen: a flushed last-used time is on disk.
func TestRecordUsesSurvivesReopen(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/ta.db"
	s, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addWorkspace(t, s, "acme", "ann")
	addToken(t, s, "acme", "ann", "01")
	if _, err := s.RecordUses(context.Background(), map[string]time.Time{"01": t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, bbolt.Options{})
	rec, err := s.GetToken(context.Background(), "acme", "01")
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.GetToken().GetLastUsedTime(); got == nil || !got.AsTime().Equal(t0) {
		t.Errorf("last_used_time after reopen = %v; want %v", got, t0)
	}
}
