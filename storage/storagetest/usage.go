package storagetest

import (
	"context"
	"testing"
	"time"
)

func testRecordUses(t *testing.T, openStore NewStore) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	addWorkspace(t, s, "acme", "ann")
	addToken(t, s, "acme", "ann", "01")
	addToken(t, s, "acme", "ann", "02")
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)

	n, err := s.RecordUses(ctx, map[string]time.Time{"01": t2, "02": t1, "99": t1, "": t1})
	if err != nil || n != 2 {
		t.Fatalf("RecordUses = %d, %v; want 2 records changed", n, err)
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
	if n, err := s.RecordUses(ctx, nil); err != nil || n != 0 {
		t.Errorf("RecordUses(nil) = %d, %v", n, err)
	}
}
