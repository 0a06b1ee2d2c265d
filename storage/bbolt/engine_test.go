package bbolt_test

import (
	"context"
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
