package bbolt_test

import (
	"context"
	"testing"
	"time"

	"tokenauthority/storage/bbolt"
)

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
