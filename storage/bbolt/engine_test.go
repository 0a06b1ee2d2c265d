package bbolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

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
			FeedFromOpen: true,
		}
	})
}

// TestEngineJournalLength: the feed keeps the last JournalLength
// transactions, and no more bytes than JournalBytes (the newest whatever
// its size); a feed from before them fails with ErrCompacted.
func TestEngineJournalLength(t *testing.T) {
	t.Parallel()
	value := func(n int) []byte { return bytes.Repeat([]byte("v"), n) }
	tests := []struct {
		name  string
		opts  bbolt.EngineOptions
		sizes []int // value sizes of the commits, in order
		// kept is the first revision still in the journal.
		kept int64
	}{
		{"by length", bbolt.EngineOptions{JournalLength: 2}, []int{1, 1, 1, 1}, 3},
		{"by bytes", bbolt.EngineOptions{JournalBytes: 100}, []int{40, 40, 40, 40}, 3},
		{"newest kept however big", bbolt.EngineOptions{JournalBytes: 100}, []int{40, 40, 40, 500}, 4},
		{"both bounds", bbolt.EngineOptions{JournalLength: 3, JournalBytes: 1000}, []int{1, 1, 1, 1, 1}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e, err := bbolt.OpenEngine(filepath.Join(t.TempDir(), "kv.db"), tt.opts)
			if err != nil {
				t.Fatalf("OpenEngine = %v", err)
			}
			t.Cleanup(func() { _ = e.Close() })
			for i, n := range tt.sizes {
				_, err := e.Update(ctx, func(tx storage.Tx) error { return tx.Put([]byte("k"), value(n)) })
				if err != nil {
					t.Fatalf("Update %d = %v", i, err)
				}
			}
			last := int64(len(tt.sizes))
			for after := int64(0); after <= last; after++ {
				feedCtx, cancel := context.WithCancel(ctx)
				_, err := e.Changes(feedCtx, after)
				cancel()
				if want := after+1 >= tt.kept; (err == nil) != want || err != nil && !errors.Is(err, storage.ErrCompacted) {
					t.Errorf("Changes(%d) = %v; want it to %s", after, err, map[bool]string{true: "follow", false: "fail with ErrCompacted"}[want])
				}
			}
		})
	}
}

// TestEngineDropsFileJournal: a file from a build that kept the change
// feed in bucket kvjournal opens with that bucket deleted and its data and
// revision kept.
func TestEngineDropsFileJournal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kv.db")
	e := openEngine(t, path)
	rev, err := e.Update(ctx, func(tx storage.Tx) error { return tx.Put([]byte("a"), []byte("1")) })
	if err != nil {
		t.Fatalf("Update = %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	editRaw(t, path, func(tx *bolt.Tx) error {
		j, err := tx.CreateBucket([]byte("kvjournal"))
		if err != nil {
			return err
		}
		entry, err := j.CreateBucket(binary.BigEndian.AppendUint64(nil, uint64(rev)))
		if err != nil {
			return err
		}
		return entry.Put([]byte{0}, bytes.Repeat([]byte("x"), 20_000))
	})
	e = openEngine(t, path)
	if got, err := e.Revision(ctx); err != nil || got != rev {
		t.Errorf("Revision = %d, %v; want %d", got, err, rev)
	}
	err = e.View(ctx, func(tx storage.ReadTx) error {
		v, err := tx.Get([]byte("a"))
		if err == nil && string(v) != "1" {
			err = fmt.Errorf("a = %q, want 1", v)
		}
		return err
	})
	if err != nil {
		t.Errorf("View = %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if _, ok := rawBuckets(t, path)["kvjournal"]; ok {
		t.Error("bucket kvjournal still exists after opening")
	}
}
