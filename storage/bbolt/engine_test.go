package bbolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/storagetest"
)

// engineLimits are smaller than the defaults so the limit tests stay fast.
var engineLimits = storage.EngineLimits{MaxOps: 1000, MaxBytes: 1 << 20}

func openEngine(t testing.TB, path string) *bbolt.Engine {
	t.Helper()
	e, err := bbolt.OpenEngine(path, bbolt.EngineOptions{Limits: engineLimits})
	if err != nil {
		t.Fatalf("OpenEngine = %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func TestEngine(t *testing.T) {
	t.Parallel()
	storagetest.RunEngineTests(t, func(t testing.TB) storagetest.EngineUnderTest {
		path := filepath.Join(t.TempDir(), "kv.db")
		e := openEngine(t, path)
		return storagetest.EngineUnderTest{
			Engine: e,
			Reopen: func(t testing.TB) storage.Engine {
				if err := e.Close(); err != nil {
					t.Fatalf("Close = %v", err)
				}
				e = openEngine(t, path)
				return e
			},
			Compact: func(t testing.TB, rev int64) {
				if err := e.TrimJournal(context.Background(), rev); err != nil {
					t.Fatalf("TrimJournal(%d) = %v", rev, err)
				}
			},
		}
	})
}

// TestEngineJournalLength: the journal keeps the last JournalLength
// transactions; a feed from before them fails with ErrCompacted.
func TestEngineJournalLength(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := bbolt.OpenEngine(filepath.Join(t.TempDir(), "kv.db"), bbolt.EngineOptions{JournalLength: 2})
	if err != nil {
		t.Fatalf("OpenEngine = %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	for i := range 4 {
		_, err := e.Update(ctx, func(tx storage.Tx) error { return tx.Put([]byte("k"), []byte{byte(i)}) })
		if err != nil {
			t.Fatalf("Update %d = %v", i, err)
		}
	}
	tests := []struct {
		after   int64
		wantErr error
	}{
		{1, storage.ErrCompacted},
		{2, nil},
		{4, nil},
	}
	for _, tt := range tests {
		feedCtx, cancel := context.WithCancel(ctx)
		_, err := e.Changes(feedCtx, tt.after)
		cancel()
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Changes(%d) = %v, want %v", tt.after, err, tt.wantErr)
		}
	}
}
